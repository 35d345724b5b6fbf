"""Own-code training: the spec and the source files sent with it, checked before anything runs.

Files are named by relative paths of plain segments ending in ``.py`` (no absolute path,
no ``..``, no hidden names), bounded in count and size, and UTF-8 text; the entrypoint
``file.py:function`` names one of them.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from shipyard.errors import InvalidInput, PayloadTooLarge
from shipyard.schemas._base import WireModel

MAX_FILES = 50
MAX_FILE_BYTES = 1024 * 1024
MAX_TOTAL_BYTES = 4 * 1024 * 1024
MAX_PATH = 200
_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
CODE_PATH = re.compile(rf"{_SEGMENT}(/{_SEGMENT})*\.py")
_ENTRYPOINT = re.compile(r"(?P<file>[^:]+):(?P<function>[A-Za-z_][A-Za-z0-9_]*)")


class CodeSpec(WireModel):
    """What own-code training runs: ``entrypoint`` on ``dataset`` (or named ``datasets``)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    entrypoint: str = Field(min_length=3, max_length=300)
    dataset: str | None = None
    datasets: dict[str, str] | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    experiment: str = Field("default", min_length=1)
    force: bool = False
    network: Literal["host", "none"] = "host"
    """``none``: the code runs in a sandbox with no network, the platform's files hidden and
    no credentials, as an unprivileged user (Linux); ``host``: in the job process."""


def parse_code_spec(data: dict[str, Any]) -> CodeSpec:
    if "hyperparameters" in data and "params" not in data:
        data = {**data, "params": data["hyperparameters"]}
        del data["hyperparameters"]
    try:
        spec = CodeSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "spec"
        raise InvalidInput(first["msg"].removeprefix("Value error, "), field=field) from None
    if not spec.dataset and not spec.datasets:
        raise InvalidInput("name the dataset version the code trains on", field="dataset")
    if spec.dataset and spec.datasets:
        raise InvalidInput("give dataset or datasets, not both", field="datasets")
    return spec


def entry_parts(entrypoint: str) -> tuple[str, str]:
    """``("train.py", "main")`` of ``train.py:main``."""
    found = _ENTRYPOINT.fullmatch(entrypoint)
    if found is None:
        raise InvalidInput("must be FILE.py:FUNCTION, e.g. train.py:main", field="entrypoint")
    return found["file"], found["function"]


def check_path(path: str, field: str) -> None:
    if len(path) > MAX_PATH or CODE_PATH.fullmatch(path) is None or ".." in path.split("/"):
        raise InvalidInput(
            f"{path[:80]!r} is not a relative path of plain names ending in .py "
            "(no absolute path, no '..', no hidden names)",
            field=field,
        )


def check_files(files: dict[str, str], entrypoint: str) -> dict[str, bytes]:
    """The source files as bytes, after every bound and path check; the entry file present."""
    entry_file, _ = entry_parts(entrypoint)
    check_path(entry_file, "entrypoint")
    if not files:
        raise InvalidInput("send the code's files (at least the entry file)", field="files")
    if len(files) > MAX_FILES:
        raise InvalidInput(f"at most {MAX_FILES} files", field="files")
    found: dict[str, bytes] = {}
    for path, text in files.items():
        check_path(path, "files")
        data = text.encode("utf-8")
        if len(data) > MAX_FILE_BYTES:
            raise PayloadTooLarge(
                f"{path} is {len(data)} bytes, over {MAX_FILE_BYTES}", field=f"files.{path}"
            )
        found[path] = data
    if sum(len(d) for d in found.values()) > MAX_TOTAL_BYTES:
        raise PayloadTooLarge(f"the files hold over {MAX_TOTAL_BYTES} bytes", field="files")
    if entry_file not in found:
        raise InvalidInput(f"{entry_file} is not among the files sent", field="entrypoint")
    return found
