"""``shipyard quickstart`` in a fresh home: every command it prints works as printed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from tests.cli.conftest import Processes, environment, free_port, shipyard, wait_answering

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="the advice uses curl")


def printed_commands(stdout: str) -> dict[str, str]:
    """The indented command lines of the advice, by what they do."""
    commands = [line.strip() for line in stdout.splitlines() if line.startswith("  ")]
    return {
        "invoke": next(c for c in commands if c.startswith("curl") and "/invocations" in c),
        "control": next(c for c in commands if c.startswith("curl") and "/api/v1/" in c),
        "cli": next(c for c in commands if c.startswith("shipyard --url")),
    }


def run(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a printed command through the shell, as a user pastes it."""
    if command.startswith("shipyard "):
        command = f"{sys.executable} -m {command}"
    return subprocess.run(
        command, shell=True, capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_quickstart_prints_keys_that_work_on_the_servers_it_advertises(
    tmp_path: Path, processes: Processes
) -> None:
    home = tmp_path / "home"
    ports = {"port": str(free_port()), "serving_port": str(free_port())}
    first = shipyard(home, "quickstart", **ports)
    assert first.returncode == 0, first.stderr
    assert "admin key (shown once" in first.stdout
    commands = printed_commands(first.stdout)

    control = processes.start(home, "server", **ports)
    wait_answering(control, f"http://127.0.0.1:{ports['port']}/healthz")
    serving = processes.start(home, "serve", "breast-cancer", "--workers", "1", **ports)
    wait_answering(serving, f"http://127.0.0.1:{ports['serving_port']}/ping")

    env = environment(home)
    invoked = run(commands["invoke"], env)
    assert invoked.returncode == 0, invoked.stderr
    assert len(orjson.loads(invoked.stdout)["predictions"]) == 1
    models = run(commands["control"], env)
    names = [m["name"] for m in orjson.loads(models.stdout)["items"]]
    assert names == ["breast-cancer"], models.stdout
    listed = run(commands["cli"], env)
    assert listed.returncode == 0, listed.stderr
    assert "breast-cancer" in listed.stdout

    # Run again: the admin has a key by now, so it says which key to create instead.
    second = shipyard(home, "quickstart", **ports)
    assert second.returncode == 0, second.stderr
    assert "`shipyard keys create admin`" in second.stdout
    commands = printed_commands(second.stdout)
    created = shipyard(home, "keys", "create", "admin", "--json")
    env["SHIPYARD_API_KEY"] = orjson.loads(created.stdout)["token"]
    models = run(commands["control"], env)
    names = [m["name"] for m in orjson.loads(models.stdout)["items"]]
    assert names == ["breast-cancer"], models.stdout
    listed = run(commands["cli"], env)
    assert listed.returncode == 0, listed.stderr
    assert "breast-cancer" in listed.stdout
