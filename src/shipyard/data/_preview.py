"""The first rows of a table as JSON-ready dictionaries."""

from __future__ import annotations

import datetime
import math
from typing import Any

import pyarrow as pa

from shipyard.errors import InvalidInput


def head_rows(table: pa.Table, n: int) -> list[dict[str, Any]]:
    """Return the first ``n`` rows as dictionaries that serialise to JSON unchanged.

    Dates, times and timestamps become ISO 8601 strings; NaN and infinities become None.
    """
    if n < 0:
        raise InvalidInput(f"row count must be zero or more, got {n}", field="n")
    rows: list[dict[str, Any]] = table.slice(0, n).to_pylist()
    return [{name: _json_value(value) for name, value in row.items()} for row in rows]


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
