"""Logical column types of a dataset and the Arrow types behind them."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict

from shipyard.errors import InvalidInput
from shipyard.schemas.datasets import ColumnType


class ColumnSchema(BaseModel):
    """One column of a dataset: its name, logical type and exact Arrow type."""

    model_config = ConfigDict(frozen=True)

    name: str
    type: ColumnType
    arrow_type: str
    nullable: bool


def column_type(name: str, arrow_type: pa.DataType) -> ColumnType:
    """Map a normalised Arrow type to its logical type; InvalidInput if it has none."""
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type):
        return "float"
    if pa.types.is_string(arrow_type):
        return "string"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    if pa.types.is_date32(arrow_type):
        return "date"
    raise InvalidInput(_unsupported_message(name, arrow_type), field="file")


def _unsupported_message(name: str, arrow_type: pa.DataType) -> str:
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        return f"column {name!r} holds bytes that are not UTF-8 text; save the file as UTF-8"
    if pa.types.is_nested(arrow_type):
        return (
            f"column {name!r} has nested type {arrow_type}; "
            "only flat columns (numbers, text, booleans, dates, timestamps) are supported"
        )
    return f"column {name!r} has unsupported type {arrow_type}"


def table_schema(table: pa.Table) -> list[ColumnSchema]:
    """Describe every column of a normalised table, in order.

    ``nullable`` says whether the column holds a missing value: a null, or a NaN in a float column.
    """
    return [
        ColumnSchema(
            name=field.name,
            type=column_type(field.name, field.type),
            arrow_type=str(field.type),
            nullable=has_missing(table.column(index)),
        )
        for index, field in enumerate(table.schema)
    ]


def has_missing(column: pa.ChunkedArray) -> bool:
    """Whether a column holds a null, or a NaN when it is a float column."""
    if column.null_count > 0:
        return True
    return pa.types.is_floating(column.type) and bool(pc.any(pc.is_nan(column)).as_py())
