"""``hide_paths``: a directory covered but for the entries kept, files hidden, in the calling
process only (each case runs in a child: the call changes the process's mount namespace)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs Linux namespaces")

_CHILD = textwrap.dedent(
    """
    import json, os, sys, threading, time
    from shipyard.sandbox import hide_paths
    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()  # a serving worker's
    home, keep, hide = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
    hide_paths(hide, cover=home, keep=keep)
    seen = sorted(os.listdir(home))
    open(os.path.join(home, "logs", "worker.log"), "w").write("written")
    try:
        open(os.path.join(home, "new"), "w")
        writable = True
    except OSError:
        writable = False
    print(json.dumps({"seen": seen, "writable": writable,
                      "other": open(sys.argv[4]).read()}))
    """
)


def test_the_covered_home_shows_only_what_is_kept_and_the_host_keeps_its_view(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    (home / "keys").mkdir(parents=True)
    (home / "keys" / "kek-1.key").write_text("key")
    (home / "logs").mkdir()
    (home / "shipyard.db").write_text("db")
    (home / "online_store.db").write_text("features")
    elsewhere = tmp_path / "token"
    elsewhere.write_text("secret")
    keep = [str(home / "logs"), str(home / "online_store.db")]
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _CHILD,
            str(home),
            json.dumps(keep),
            json.dumps([str(elsewhere)]),
            str(elsewhere),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if done.returncode != 0 and "unshare" in done.stderr:
        pytest.skip(f"no mount namespace here: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found == {"seen": ["logs", "online_store.db"], "writable": False, "other": ""}
    assert (home / "logs" / "worker.log").read_text() == "written"  # the kept entry is the real one
    assert sorted(p.name for p in home.iterdir()) == [
        "keys",
        "logs",
        "online_store.db",
        "shipyard.db",
    ]
    assert elsewhere.read_text() == "secret"
