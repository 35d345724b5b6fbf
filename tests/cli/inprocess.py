"""Running one ``shipyard`` command inside the test process, as ``tests.cli.conftest.shipyard``
runs it in a child: the same environment, the same ``main``, its exit code and output.

A child process re-imports and opens the whole platform for each command (1-2 s); here the
imports are paid once per worker. Each call still starts from nothing: the CLI's state is
reset, settings are read again from the environment given, and the client (and the
in-process platform it opened) is closed when the command ends. Tests that check what only
a real process shows (the console script's exit status, thin imports, signals) keep
``tests.cli.conftest.shipyard``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import environment

from shipyard.cli import _output
from shipyard.cli._context import STATE, CliState
from shipyard.cli._main import main


def shipyard(home: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run one ``shipyard`` command to its end in this process (see the module docstring)."""
    return run(environment(home, **settings), *args)


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``shipyard ARGS`` in this process with exactly ``env`` as its environment."""
    saved_environ = dict(os.environ)
    saved_argv = sys.argv
    saved_state = dataclasses.replace(STATE)
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(env)
    sys.argv = ["shipyard", *args]  # click names the program after argv[0], as the script does
    _reset(CliState())
    # Rich fixes a console's width from COLUMNS when the console is made, once per process:
    # give this command the width a fresh process with ``env`` would have.
    consoles = (_output.console, _output.errors)
    saved_widths = [console._width for console in consoles]
    columns = env.get("COLUMNS", "")
    for console in consoles:
        console._width = int(columns) if columns.isdigit() else None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as done:  # a command that exits by itself, as sys.exit would
                code = done.code if isinstance(done.code, int) else int(done.code is not None)
                if isinstance(done.code, str):
                    err.write(done.code + "\n")
            finally:
                if STATE._client is not None:
                    STATE._client.close()
    finally:
        for console, width in zip(consoles, saved_widths, strict=True):
            console._width = width
        _reset(saved_state)
        sys.argv = saved_argv
        os.environ.clear()
        os.environ.update(saved_environ)
    return subprocess.CompletedProcess(["shipyard", *args], code, out.getvalue(), err.getvalue())


def _reset(state: CliState) -> None:
    for field in dataclasses.fields(CliState):
        setattr(STATE, field.name, getattr(state, field.name))


def reset_state() -> None:
    """The CLI's state as a fresh process has it (for tests that call ``main`` directly)."""
    _reset(CliState())
