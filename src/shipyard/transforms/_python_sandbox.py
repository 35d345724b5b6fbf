"""A Python transform with ``network: none``: its worker runs in the sandbox.

The work directory already holds the inputs' Parquet files (``inputs/<alias>/``, copies
made for this run); the source goes to ``code/`` and the worker writes its result or its
error to ``scratch/``, the only place it may write. It runs with no network but its own
loopback, the platform's files hidden, no credentials, as an unprivileged user
(``shipyard.sandbox``). What it leaves is read back without following links.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from shipyard.config import Settings
from shipyard.errors import InvalidInput
from shipyard.sandbox._launch import (
    CHANNEL_LINE_BYTES,
    NOBODY,
    SandboxFailed,
    hidden_paths,
    layout_for,
    open_up,
    read_left_file,
    start_child,
)
from shipyard.sandbox._namespaces import ROOT
from shipyard.schemas.transforms import PythonCode

MAX_ERROR_BYTES = 64 * 1024


def sandboxed_worker(
    worker: Path,
    code: PythonCode,
    source: bytes,
    inputs: dict[str, list[Path]],
    work_dir: Path,
    *,
    timeout: float,
    settings: Settings,
) -> tuple[Path | None, bytes | None, str]:
    """Run ``worker`` on the request in the sandbox: (the output file, or the error file's
    bytes, and the worker's output when it failed without one)."""
    (work_dir / "code").mkdir()
    (work_dir / "scratch").mkdir()
    (work_dir / "code" / f"{code.module}.py").write_bytes(source)
    staged = work_dir / "inputs"
    request = {
        "source": str(ROOT / "code" / f"{code.module}.py"),
        "display": code.file or f"{code.module}.py",
        "module": code.module,
        "function": code.function,
        "inputs": {
            alias: [str(ROOT / "inputs" / f.relative_to(staged)) for f in files]
            for alias, files in inputs.items()
        },
        "output": str(ROOT / "work" / "output.parquet"),
        "error": str(ROOT / "work" / "error.json"),
    }
    open_up(work_dir)
    try:
        layout = layout_for(work_dir, hidden_paths(settings), os.geteuid() == 0)
    except SandboxFailed as error:
        raise InvalidInput(str(error), field="python.network") from None
    plan = {
        "layout": vars(layout),
        "uid": NOBODY,
        "worker": {"script": str(worker), "request": request},
    }
    process, read_end = start_child(plan)
    try:
        printed = process.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise InvalidInput(
            f"the Python transform ran longer than {timeout:.0f} s and was stopped",
            field="python",
        ) from None
    finally:
        with os.fdopen(read_end, "rb") as channel:
            said = channel.read(CHANNEL_LINE_BYTES).decode("utf-8", "replace")
    if '"op": "sandbox"' in said:
        raise InvalidInput(
            f"the sandbox could not be set up: {said.strip()}", field="python.network"
        )
    scratch = work_dir / "scratch"
    if process.returncode != 0:
        try:
            account = read_left_file(scratch / "error.json", MAX_ERROR_BYTES)
        except SandboxFailed as error:
            raise InvalidInput(str(error), field="python") from None
        return None, account, printed.decode("utf-8", "replace")
    output = scratch / "output.parquet"
    info = os.lstat(output)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        raise InvalidInput("the transform's output is not a plain file", field="python")
    return output, None, ""
