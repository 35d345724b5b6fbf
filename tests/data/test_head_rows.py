"""head_rows returns rows that serialise to strict JSON."""

from __future__ import annotations

import datetime
import json

import pyarrow as pa
import pytest

from shipyard.data import head_rows, read_table
from shipyard.errors import InvalidInput


@pytest.fixture
def table() -> pa.Table:
    return pa.table(
        {
            "id": [1, 2, 3],
            "score": [1.5, float("nan"), float("inf")],
            "name": ["a", None, "c"],
            "ok": [True, False, None],
            "day": [datetime.date(2024, 1, 2), None, None],
            "at": pa.array(
                [datetime.datetime(2024, 1, 2, 3, 4, 5, 600_000), None, None], pa.timestamp("ms")
            ),
            "zoned": pa.array(
                [datetime.datetime(2024, 1, 2, tzinfo=datetime.UTC), None, None],
                pa.timestamp("ns", tz="UTC"),
            ),
        }
    )


def test_values_become_json_friendly(table: pa.Table) -> None:
    rows = head_rows(table, 2)

    assert rows == [
        {
            "id": 1,
            "score": 1.5,
            "name": "a",
            "ok": True,
            "day": "2024-01-02",
            "at": "2024-01-02T03:04:05.600000",
            "zoned": "2024-01-02T00:00:00+00:00",
        },
        {"id": 2, "score": None, "name": None, "ok": False, "day": None, "at": None, "zoned": None},
    ]
    json.dumps(head_rows(table, 3), allow_nan=False)


def test_asking_for_more_rows_than_exist(table: pa.Table) -> None:
    assert [row["id"] for row in head_rows(table, 10)] == [1, 2, 3]
    assert head_rows(table, 0) == []


def test_negative_count_is_rejected(table: pa.Table) -> None:
    with pytest.raises(InvalidInput) as caught:
        head_rows(table, -1)

    assert caught.value.field == "n"


def test_rows_from_a_csv_file() -> None:
    table = read_table(b"a,when\n1,2024-05-06T07:08:09\n", format="csv")

    assert head_rows(table, 1) == [{"a": 1, "when": "2024-05-06T07:08:09"}]
