"""What every SDK resource group shares: its transport, and reading a local file to send."""

from __future__ import annotations

import os
from pathlib import Path

from shipyard.client._transport import Transport
from shipyard.errors import InvalidInput


class _Group:
    def __init__(self, transport: Transport) -> None:
        self._t = transport


def read_file(path: str | os.PathLike[str]) -> bytes:
    """A local file's bytes, or an error that names the file."""
    target = Path(path)
    if not target.is_file():
        raise InvalidInput(f"{target} does not exist or is not a file", field="file")
    try:
        return target.read_bytes()
    except OSError as error:
        raise InvalidInput(f"cannot read {target}: {error.strerror}", field="file") from None
