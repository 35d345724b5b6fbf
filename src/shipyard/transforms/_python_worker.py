"""The Python transform worker, run as a script (imports only pyarrow) with JSON on stdin.

It loads the registered source as a module, calls the function with one ``pyarrow.Table``
per input (keyword arguments named as in the spec), and writes the returned table as
Parquet. On failure it writes the error's type, message and line in the source as JSON.
With ``network: none`` the sandbox's child runs ``handle`` (``shipyard.sandbox``).
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq


def _as_table(result: Any) -> pa.Table:
    if isinstance(result, pa.Table):
        return result
    if isinstance(result, pa.RecordBatch):
        return pa.Table.from_batches([result])
    if isinstance(result, pa.RecordBatchReader):
        return result.read_all()
    if type(result).__module__.startswith("pandas") and type(result).__name__ == "DataFrame":
        return pa.Table.from_pandas(result, preserve_index=False)
    raise TypeError(
        f"the function returned {type(result).__name__}; return a pyarrow.Table "
        "(or a RecordBatch, RecordBatchReader or pandas DataFrame)"
    )


def _where(error: BaseException, source: str, display: str) -> str:
    lines = [f.lineno for f in traceback.extract_tb(error.__traceback__) if f.filename == source]
    return f"{display} line {lines[-1]}" if lines else ""


def run(request: dict[str, Any]) -> None:
    tables = {alias: pq.read_table(files) for alias, files in request["inputs"].items()}
    spec = importlib.util.spec_from_file_location(request["module"], request["source"])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    function = getattr(module, request["function"])
    pq.write_table(_as_table(function(**tables)), request["output"])


def handle(request: dict[str, Any]) -> int:
    """Run the request; on failure write the error's account to its file. The exit code."""
    try:
        run(request)
    except Exception as error:
        with open(request["error"], "wb") as sink:
            sink.write(
                orjson.dumps(
                    {
                        "type": type(error).__name__,
                        "message": str(error),
                        "where": _where(error, request["source"], request["display"]),
                    }
                )
            )
        return 1
    return 0


def main() -> int:
    return handle(orjson.loads(sys.stdin.buffer.read()))


if __name__ == "__main__":
    raise SystemExit(main())
