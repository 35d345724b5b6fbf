"""Run a Python transform in a worker process: Parquet files in, one Parquet file out.

The worker gets file paths as JSON on stdin and writes its result (or a JSON account of the
error) to files; nothing crosses the process boundary as a pickle. With ``network: host``
the worker is a separate process, not a sandbox: the code runs with the server's rights, so
registering Python transforms is for trusted principals. With ``network: none`` it runs in
the sandbox (``_python_sandbox``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pyarrow.parquet as pq

from shipyard.config import Settings
from shipyard.errors import InvalidInput
from shipyard.schemas.transforms import PythonCode
from shipyard.transforms._results import ResultBatches, parquet_batches

TIMEOUT_SECONDS = 3600.0
_HIDDEN_ENV = ("SHIPYARD_", "AWS_", "PG")
_WORKER = Path(__file__).with_name("_python_worker.py")


def python_batches(
    code: PythonCode,
    source: bytes,
    inputs: dict[str, list[Path]],
    work_dir: Path,
    *,
    timeout: float = TIMEOUT_SECONDS,
    settings: Settings | None = None,
) -> ResultBatches:
    """Call ``code``'s function with one Arrow table per input; its table is the result."""
    if code.network == "none":
        from shipyard.transforms._python_sandbox import sandboxed_worker

        assert settings is not None
        found = sandboxed_worker(
            _WORKER, code, source, inputs, work_dir, timeout=timeout, settings=settings
        )
        output, error, printed = found
        if output is None:
            raise InvalidInput(_account(error, printed, "the sandboxed worker"), field="python")
        return ResultBatches(pq.read_schema(output), parquet_batches([output]), (), "python")
    module_path = work_dir / f"{code.module}.py"
    module_path.write_bytes(source)
    output, error_file = work_dir / "output.parquet", work_dir / "error.json"
    request = {
        "source": str(module_path),
        "display": code.file or module_path.name,
        "module": code.module,
        "function": code.function,
        "inputs": {alias: [str(f) for f in files] for alias, files in inputs.items()},
        "output": str(output),
        "error": str(error_file),
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(_HIDDEN_ENV)}
    try:
        completed = subprocess.run(  # noqa: S603 - our interpreter and worker script, no shell
            [sys.executable, "-I", str(_WORKER)],
            input=orjson.dumps(request),
            capture_output=True,
            timeout=timeout,
            cwd=work_dir,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InvalidInput(
            f"the Python transform ran longer than {timeout:.0f} s and was stopped",
            field="python",
        ) from None
    if completed.returncode != 0:
        raise InvalidInput(_failure(error_file, completed), field="python")
    return ResultBatches(pq.read_schema(output), parquet_batches([output]), (), "python")


def _failure(error_file: Path, completed: subprocess.CompletedProcess[bytes]) -> str:
    error = error_file.read_bytes() if error_file.is_file() else None
    printed = completed.stderr.decode(errors="replace")
    return _account(
        error, printed, f"the Python transform worker exited with code {completed.returncode}"
    )


def _account(error: bytes | None, printed: str, otherwise: str) -> str:
    if error is not None:
        detail = orjson.loads(error)
        where = f" ({detail['where']})" if detail.get("where") else ""
        return f"the Python transform raised {detail['type']}: {detail['message']}{where}"
    tail = printed.strip().splitlines()[-3:]
    return f"{otherwise}: " + " ".join(tail)
