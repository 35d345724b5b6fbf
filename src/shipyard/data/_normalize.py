"""Bring any Arrow table to the flat, metadata-free form every dataset is stored in."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa

from shipyard.data._schema import column_type
from shipyard.errors import InvalidInput


def normalize_table(table: pa.Table) -> pa.Table:
    """Check column names and types and convert columns to their canonical Arrow types.

    Dictionaries are decoded, large/view strings become strings, all-null and time-of-day
    columns become strings, decimals become float64, date64 becomes date32; timestamps keep
    their unit and time zone. Schema and field metadata are dropped. Raises InvalidInput
    for empty or duplicate column names and for nested or binary columns.
    """
    names = table.column_names
    _check_names(names)
    columns = [
        _normalize_column(name, column) for name, column in zip(names, table.columns, strict=True)
    ]
    return pa.Table.from_arrays(columns, names=names)


def _check_names(names: list[str]) -> None:
    for position, name in enumerate(names, start=1):
        if not name.strip():
            raise InvalidInput(
                f"column {position} has an empty name; every column needs a header",
                field="file",
            )
    duplicates = sorted(name for name, seen in Counter(names).items() if seen > 1)
    if duplicates:
        listed = ", ".join(repr(name) for name in duplicates)
        raise InvalidInput(f"duplicate column names: {listed}", field="file")


def _normalize_column(name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    target = canonical_type(column.type)
    column_type(name, target)
    return column if target == column.type else column.cast(target)


def canonical_type(arrow_type: pa.DataType) -> pa.DataType:
    """The Arrow type a column of ``arrow_type`` is stored as."""
    if pa.types.is_dictionary(arrow_type):
        return canonical_type(arrow_type.value_type)
    if (
        pa.types.is_large_string(arrow_type)
        or pa.types.is_string_view(arrow_type)
        or pa.types.is_null(arrow_type)
        or pa.types.is_time(arrow_type)
    ):
        return pa.string()
    if pa.types.is_float16(arrow_type):
        return pa.float32()
    if pa.types.is_decimal(arrow_type):
        return pa.float64()
    if pa.types.is_date64(arrow_type):
        return pa.date32()
    return arrow_type
