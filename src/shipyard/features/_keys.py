"""Entity keys as online-store keys: one string per entity, built the same way from Arrow and JSON.

Integer keys print as decimal; string keys escape ``\\`` and the unit separator, and the
parts of a compound key are joined by the unit separator, so distinct keys never collide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from shipyard.errors import InvalidInput

KeyType = Literal["integer", "string"]
SEPARATOR = "\x1f"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(SEPARATOR, "\\u")


def encode_key(values: Sequence[int | str]) -> str:
    """The store key of one entity from its already-typed key values."""
    return SEPARATOR.join(_escape(v) if isinstance(v, str) else str(v) for v in values)


def encode_key_columns(columns: Sequence[pa.ChunkedArray | pa.Array]) -> pa.ChunkedArray:
    """Store keys of many entities at once (vectorized); nulls stay null."""
    parts: list[pa.ChunkedArray | pa.Array] = []
    for column in columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            text = pc.replace_substring(column.cast(pa.string()), "\\", "\\\\")
            parts.append(pc.replace_substring(text, SEPARATOR, "\\u"))
        else:
            parts.append(column.cast(pa.string()))
    joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, SEPARATOR)
    return joined if isinstance(joined, pa.ChunkedArray) else pa.chunked_array([joined])


def coerce_key(value: Any, kind: KeyType, *, field: str) -> int | str:
    """A request's key value as the view's key type: integers from ints or digit strings."""
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise InvalidInput(f"must be an integer entity key, got {value!r:.40}", field=field)
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InvalidInput(f"must be a string entity key, got {value!r:.40}", field=field)


def entity_key(
    row: Mapping[str, Any],
    columns: Sequence[tuple[str, str, KeyType]],
    *,
    where: str,
) -> str:
    """The store key of one request row; ``columns`` is (view column, request field, type)."""
    values: list[int | str] = []
    for _column, request_field, kind in columns:
        if request_field not in row or row[request_field] is None:
            raise InvalidInput(f"{where} has no entity key {request_field!r}", field=request_field)
        values.append(coerce_key(row[request_field], kind, field=request_field))
    return encode_key(values)
