"""The SDK and the CLI stay thin: importing the SDK, ``shipyard --help`` and a command run
against a server load none of the server's modules and none of its heavy libraries.

Each case runs in a fresh interpreter and reads its ``sys.modules`` at exit. What may load
is an allow-list of Shipyard's modules (the client, the CLI, the wire types, the operation
catalog and the core), so a server module added later is refused without touching this
file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import LiveServer

from shipyard.client import Client

HEAVY = ("sqlalchemy", "duckdb", "fastapi", "uvicorn", "pandas", "pyarrow")
"""Libraries only the server side needs (pyarrow also loads for a table read, on call)."""

THIN = (
    "shipyard",
    "shipyard.__main__",
    "shipyard._bounds",
    "shipyard._connection",
    "shipyard._operation",
    "shipyard._operations_ops",
    "shipyard._operations_console",
    "shipyard._operations_iam",
    "shipyard._operations_lifecycle",
    "shipyard._operations_tracking",
    "shipyard.clock",
    "shipyard.config",
    "shipyard.errors",
    "shipyard.names",
    "shipyard.operations",
)
THIN_PACKAGES = ("shipyard.cli", "shipyard.client", "shipyard.schemas")
"""Everything of Shipyard a thin process may load; the rest (``shipyard.api``,
``shipyard.store``, ``shipyard.platform``, ``shipyard.security`` and every service
package) is the server."""

_REPORT = """
import atexit, json, os, runpy, sys
atexit.register(lambda: open(os.environ["MODULES_OUT"], "w").write(json.dumps(list(sys.modules))))
sys.argv = ["shipyard", *sys.argv[1:]]
{body}
"""


_RUN_CLI = 'runpy.run_module("shipyard", run_name="__main__")'


def _modules_after(tmp_path: Path, body: str, *args: str) -> tuple[set[str], str]:
    """The modules a fresh interpreter has loaded when ``body`` is done, and its stdout."""
    out = tmp_path / "modules.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env |= {"MODULES_OUT": str(out), "SHIPYARD_HOME": str(tmp_path / "client-home")}
    done = subprocess.run(
        [sys.executable, "-c", _REPORT.format(body=body), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return set(json.loads(out.read_text())), done.stdout


def _server_modules(modules: set[str]) -> list[str]:
    return sorted(
        m
        for m in modules
        if (m == "shipyard" or m.startswith("shipyard."))
        and m not in THIN
        and not any(m == p or m.startswith(p + ".") for p in THIN_PACKAGES)
    )


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


CLI_CORE = (
    "shipyard.cli._main",
    "shipyard.cli._lazy",
    "shipyard.cli._context",
    "shipyard.cli._output",
)
"""What every ``shipyard`` command loads of the CLI; a command's module loads when it runs."""


def _command_modules(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.startswith("shipyard.cli._") and m not in CLI_CORE)


def _ingest(tmp_path: Path, server: LiveServer, key: str, name: str) -> None:
    data = tmp_path / f"{name}.csv"
    data.write_text("x\n1\n2\n3\n")
    with Client(server.url, api_key=key) as sdk:
        sdk.datasets.ingest(data, name)


def test_importing_the_sdk_loads_no_server_and_no_heavy_library(tmp_path: Path) -> None:
    modules, _ = _modules_after(tmp_path, "import shipyard.client")
    assert "shipyard.client" in modules
    assert _heavy(modules) == []
    assert _server_modules(modules) == []


def test_the_wire_types_import_only_pydantic_and_the_core(tmp_path: Path) -> None:
    body = (
        "import importlib, pkgutil, shipyard.schemas as s\n"
        "for m in pkgutil.iter_modules(s.__path__):\n"
        "    importlib.import_module('shipyard.schemas.' + m.name)\n"
        "    print(m.name)"
    )
    modules, out = _modules_after(tmp_path, body)
    assert {"datasets", "endpoints", "contract_spec", "jsonable"} <= set(out.split())
    assert _heavy(modules) == []
    assert _server_modules(modules) == []
    assert not any(m.startswith(("shipyard.cli", "shipyard.client")) for m in modules)
    assert not any(m.split(".")[0] in ("httpx", "typer", "numpy") for m in modules)


def test_cli_help_loads_no_server_and_no_heavy_library(tmp_path: Path) -> None:
    modules, out = _modules_after(tmp_path, _RUN_CLI, "--help")
    assert "datasets" in out and "endpoints" in out
    assert _heavy(modules) == []
    assert _server_modules(modules) == []
    assert _command_modules(modules) == []  # listed from the command table


def test_a_remote_listing_loads_no_server_module(
    tmp_path: Path, api_server: LiveServer, admin_key: str
) -> None:
    _ingest(tmp_path, api_server, admin_key, "thin-listing")
    modules, out = _modules_after(
        tmp_path,
        _RUN_CLI,
        *("--url", api_server.url, "--api-key", admin_key, "datasets", "list", "--json"),
    )
    assert [d["name"] for d in json.loads(out)] == ["thin-listing"]
    assert _heavy(modules) == []
    assert _server_modules(modules) == []
    assert "shipyard.cli._datasets" in modules and "shipyard.cli._endpoints" not in modules
    assert "click" not in modules  # httpx's own command line is not loaded


def test_a_remote_table_read_loads_pyarrow_but_no_server_module(
    tmp_path: Path, api_server: LiveServer, admin_key: str
) -> None:
    _ingest(tmp_path, api_server, admin_key, "thin-read")
    body = (
        "from shipyard.client import Client\n"
        "with Client(sys.argv[1], api_key=sys.argv[2]) as sdk:\n"
        "    print(sdk.datasets.read('thin-read').column('x').to_pylist())"
    )
    modules, out = _modules_after(tmp_path, body, api_server.url, admin_key)
    assert out.strip() == "[1, 2, 3]"
    assert "pyarrow" in modules
    assert _server_modules(modules) == []
