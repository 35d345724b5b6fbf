"""The user's entry function: its file imported as a module, the code directory on the path."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from shipyard.errors import InvalidInput


def load_entry(directory: Path, entry_file: str, function: str) -> Any:
    """``function`` of ``entry_file`` under ``directory`` (which goes first on ``sys.path``)."""
    sys.path[:0] = list(dict.fromkeys([str((directory / entry_file).parent), str(directory)]))
    module_name = entry_file.removesuffix(".py").replace("/", ".")
    spec = importlib.util.spec_from_file_location(module_name, directory / entry_file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    found = getattr(module, function, None)
    if not callable(found):
        raise InvalidInput(f"{entry_file} has no function {function!r}", field="entrypoint")
    return found
