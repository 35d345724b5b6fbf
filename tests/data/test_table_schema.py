"""table_schema maps every supported Arrow type to its logical type."""

from __future__ import annotations

import pyarrow as pa
import pytest

from shipyard.data import ColumnSchema, normalize_table, read_table, table_schema
from shipyard.errors import InvalidInput


def test_schema_of_a_csv_file() -> None:
    data = b"id,price,name,active,day,seen,blank\n1,2.5,a,true,2024-01-02,2024-01-02T10:00:00Z,\n"
    table = read_table(data + b"2,,b,false,2024-01-03,2024-01-03T10:00:00Z,\n", format="csv")

    assert table_schema(table) == [
        ColumnSchema(name="id", type="integer", arrow_type="int64", nullable=False),
        ColumnSchema(name="price", type="float", arrow_type="double", nullable=True),
        ColumnSchema(name="name", type="string", arrow_type="string", nullable=False),
        ColumnSchema(name="active", type="boolean", arrow_type="bool", nullable=False),
        ColumnSchema(name="day", type="date", arrow_type="date32[day]", nullable=False),
        ColumnSchema(
            name="seen", type="timestamp", arrow_type="timestamp[s, tz=UTC]", nullable=False
        ),
        ColumnSchema(name="blank", type="string", arrow_type="string", nullable=True),
    ]


def test_nan_makes_a_float_column_nullable() -> None:
    table = pa.table({"x": [1.0, float("nan")], "y": [1.0, 2.0]})

    assert [column.nullable for column in table_schema(table)] == [True, False]


@pytest.mark.parametrize(
    ("array", "logical", "stored"),
    [
        (pa.array([1], pa.uint8()), "integer", "uint8"),
        (pa.array([1.0], pa.float32()), "float", "float"),
        (pa.array([1.0]).cast(pa.float16()), "float", "float"),
        (pa.array(["1.50"]).cast(pa.decimal128(5, 2)), "float", "double"),
        (pa.array(["x"]).dictionary_encode(), "string", "string"),
        (pa.array(["x"], pa.large_string()), "string", "string"),
        (pa.array([0], pa.time32("s")), "string", "string"),
        (pa.array([0], pa.date64()), "date", "date32[day]"),
        (
            pa.array([0], pa.timestamp("ns", tz="Europe/Oslo")),
            "timestamp",
            "timestamp[ns, tz=Europe/Oslo]",
        ),
    ],
)
def test_normalised_types(array: pa.Array, logical: str, stored: str) -> None:
    (column,) = table_schema(normalize_table(pa.table({"c": array})))

    assert (column.type, column.arrow_type) == (logical, stored)


@pytest.mark.parametrize(
    "array",
    [
        pa.array([[1]]),
        pa.array([{"a": 1}]),
        pa.array([b"x"]),
        pa.array([1], pa.duration("s")),
    ],
)
def test_unsupported_types_name_the_column(array: pa.Array) -> None:
    with pytest.raises(InvalidInput, match="column 'c'") as caught:
        normalize_table(pa.table({"c": array}))

    assert caught.value.field == "file"
