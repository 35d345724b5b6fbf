"""Files sent with a pipeline: its own code (``.py``) and small data files to ingest."""

from __future__ import annotations

import re

from shipyard.errors import InvalidInput, PayloadTooLarge

MAX_FILES = 50
MAX_TOTAL_BYTES = 8 * 1024 * 1024
_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
FILE_PATH = re.compile(rf"{_SEGMENT}(/{_SEGMENT})*\.(py|csv|json|jsonl|ndjson)")


def check_files(files: dict[str, str] | None) -> dict[str, bytes]:
    """Relative paths of plain names ending in .py, .csv, .json, .jsonl or .ndjson; bounded."""
    found: dict[str, bytes] = {}
    for path, content in (files or {}).items():
        if len(path) > 200 or FILE_PATH.fullmatch(path) is None or ".." in path.split("/"):
            raise InvalidInput(
                f"{path[:80]!r} is not a relative path of plain names ending in .py, .csv, "
                ".json, .jsonl or .ndjson",
                field="files",
            )
        found[path] = content.encode("utf-8")
    if len(found) > MAX_FILES:
        raise InvalidInput(f"at most {MAX_FILES} files", field="files")
    if sum(len(v) for v in found.values()) > MAX_TOTAL_BYTES:
        raise PayloadTooLarge(f"the files hold over {MAX_TOTAL_BYTES} bytes", field="files")
    return found
