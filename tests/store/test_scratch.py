"""Per-process scratch space: what a dead process left is swept, a live one's is never touched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shipyard.store import process_scratch, sweep_scratch

CLAIM = (
    "import sys; from pathlib import Path; from shipyard.store import process_scratch;"
    "d = process_scratch(Path(sys.argv[1])); (d / 'upload.part').write_bytes(b'x' * 1000);"
    "print(d, flush=True); sys.stdin.read()"
)


def claim_in_child(root: Path) -> tuple[subprocess.Popen[str], Path]:
    """A process that takes its scratch directory, writes a file there, and waits."""
    child = subprocess.Popen(
        [sys.executable, "-c", CLAIM, str(root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    return child, Path(child.stdout.readline().strip())


def test_a_killed_process_scratch_is_swept_and_a_live_one_kept(tmp_path: Path) -> None:
    root = tmp_path / "tmp"
    dead, dead_dir = claim_in_child(root)
    live, live_dir = claim_in_child(root)
    try:
        dead.kill()
        dead.wait(timeout=10)
        assert (dead_dir / "upload.part").exists()

        assert sweep_scratch(root) == 1

        assert not dead_dir.exists()
        assert not dead_dir.with_name(dead_dir.name + ".lock").exists()
        assert (live_dir / "upload.part").exists()
    finally:
        live.communicate("", timeout=10)  # a clean exit removes its own directory
        dead.stdout.close()  # type: ignore[union-attr]
    assert not live_dir.exists()
    assert sorted(root.iterdir()) == []


def test_this_process_keeps_one_directory_and_sweeping_spares_it(tmp_path: Path) -> None:
    root = tmp_path / "tmp"
    mine = process_scratch(root)
    (mine / "work").write_bytes(b"in use")
    assert process_scratch(root) == mine
    assert sweep_scratch(root) == 0
    assert (mine / "work").read_bytes() == b"in use"


def test_a_forked_child_takes_a_directory_of_its_own(tmp_path: Path) -> None:
    root = tmp_path / "tmp"
    mine = process_scratch(root)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its directory, then leave without cleanup
        os.write(write, str(process_scratch(root)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        childs = Path(pipe.read())
    os.waitpid(pid, 0)
    assert childs != mine and childs.parent == mine.parent
    assert sweep_scratch(root) == 1  # the child is gone; its directory goes, mine stays
    assert mine.exists() and not childs.exists()


def test_loose_files_older_than_this_process_are_swept(tmp_path: Path) -> None:
    root = tmp_path / "tmp"
    root.mkdir()
    old = root / "upload-1234.part"  # what an older Shipyard spooled straight into tmp/
    old.write_bytes(b"x")
    os.utime(old, (0, 0))
    new = root / "just-now.part"
    new.write_bytes(b"y")
    assert sweep_scratch(root) == 1
    assert not old.exists() and new.exists()
