"""Every way to call ``shipyard`` wrongly ends in one line on stderr and a meaningful exit code.

2 for a usage error, 1 for the rest (an unreachable server, a malformed config file); never
a traceback. Each case runs in a fresh home through the CLI's ``main`` in this process
(``tests.cli.inprocess``); the console script and ``python -m shipyard`` run as real processes,
to show they exit with what ``main`` returns.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.cli.conftest import environment, free_port
from tests.cli.inprocess import shipyard

USAGE = [
    (["nosuch"], "No such command 'nosuch'"),
    (["--bogus"], "No such option: --bogus"),
    (["datasets", "nosuch"], "No such command 'nosuch'"),
    (["datasets", "list", "--bogus"], "No such option: --bogus"),
    (["datasets", "show"], "Missing argument 'ref'"),
    (["datasets", "list", "extra"], "unexpected extra argument"),
    (["server", "--port", "abc"], "Invalid value for '--port'"),
    (["datasets", "head", "d", "--rows"], "requires an argument"),
]

CONFIGS = {
    "not YAML": "port: [8000\n",
    "not a mapping": "- port\n- 8000\n",
    "bad value": "port: many\n",
    "unknown field": "colour: blue\n",
}


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the ``shipyard`` console script in a child process."""
    return subprocess.run(
        [Path(sys.executable).parent / "shipyard", *args],
        capture_output=True,
        text=True,
        env=environment(home),
        timeout=120,
        check=False,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize(("args", "message"), USAGE, ids=[" ".join(a) for a, _ in USAGE])
def test_usage_errors_exit_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = shipyard(tmp_path / "home", *args)
    assert result.returncode == 2
    line = one_error_line(result)
    assert message in line
    assert "--help" in line  # and where to look


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}", "127.0.0.1:{port}", "http://[::"])
def test_an_unreachable_url_exits_1_with_one_line(tmp_path: Path, url: str) -> None:
    url = url.format(port=free_port())
    result = shipyard(tmp_path / "home", "--url", url, "datasets", "list")
    assert result.returncode == 1
    assert f"cannot reach the Shipyard server at {url}" in one_error_line(result)


@pytest.mark.parametrize("text", CONFIGS.values(), ids=list(CONFIGS))
def test_a_malformed_config_file_exits_1_with_one_line(tmp_path: Path, text: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.yaml").write_text(text)
    result = shipyard(home, "datasets", "list")
    assert result.returncode == 1
    one_error_line(result)


def test_shipyard_config_naming_a_malformed_or_missing_file_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.yaml"
    config.write_text(CONFIGS["not YAML"])
    malformed = shipyard(tmp_path / "home", "datasets", "list", config=str(config))
    assert malformed.returncode == 1
    assert str(config) in one_error_line(malformed)
    missing = shipyard(tmp_path / "home", "datasets", "list", config=str(tmp_path / "no"))
    assert missing.returncode == 1
    assert "SHIPYARD_CONFIG" in one_error_line(missing)


def test_help_still_prints_the_commands(tmp_path: Path) -> None:
    result = run(tmp_path / "home", "--help")  # the console script, as a user types it
    assert result.returncode == 0
    assert "Usage" in result.stdout and "datasets" in result.stdout
    assert result.stderr == ""


def test_a_group_without_a_command_prints_its_help(tmp_path: Path) -> None:
    result = shipyard(tmp_path / "home", "datasets")
    assert result.returncode == 2
    assert "ingest" in result.stdout
    assert result.stderr == ""


def test_python_dash_m_is_the_same_entry_point(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shipyard", "nosuch"],
        capture_output=True,
        text=True,
        env=environment(tmp_path / "home") | {"PATH": os.environ.get("PATH", "")},
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "No such command" in one_error_line(result)
