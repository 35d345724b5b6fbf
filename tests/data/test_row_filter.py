"""The row filter language: what each form keeps, and every refusal naming ``filter``."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from shipyard.data import parse_filter
from shipyard.errors import InvalidInput

TABLE = pa.table(
    {
        "id": pa.array([1, 2, 3, 4], pa.int32()),
        "score": [0.5, 1.5, None, 3.0],
        "city": pa.array(["Paris", "Oslo", "Paris", None]).dictionary_encode(),
        "ok": [True, False, None, True],
        "day": pa.array([date(2024, 1, d) for d in (1, 2, 3, 4)], pa.date32()),
        "at": pa.array(
            [datetime(2024, 1, 1, h, tzinfo=UTC) for h in (0, 6, 12, 18)],
            pa.timestamp("us", tz="UTC"),
        ),
        "local": pa.array([datetime(2024, 1, 1, h) for h in (0, 6, 12, 18)], pa.timestamp("ms")),
        "two words": ["a", "b", "c", "d"],
        "tags": [["x"], [], None, ["y"]],
    }
)


def ids(text: str) -> list[int]:
    return TABLE.filter(parse_filter(text, TABLE.schema)).column("id").to_pylist()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id >= 3", [3, 4]),
        ("id == 2 or id <> 2 and score > 2", [2, 4]),
        ("(id = 1 or id = 2) and not score < 1", [2]),
        ("score is null", [3]),
        ("score is not null and score != 1.5", [1, 4]),
        ("city = 'Paris'", [1, 3]),
        ("city in ('Oslo', 'Rome')", [2]),
        ("city is null", [4]),
        ("ok = false", [2]),
        ("ok", None),
        ("day > '2024-01-02'", [3, 4]),
        ("at >= '2024-01-01T06:00:00' and at < '2024-01-01T12:00:00+00:00'", [2]),
        ("local > '2024-01-01T07:00:00+01:00'", [3, 4]),
        ("\"two words\" in ('a', 'd')", [1, 4]),
        ("tags is null", [3]),
        ("ID > 3", None),
        ("id > 1e20", []),
        ("id > -5 AND score < 1", [1]),
        ("id in (1, 4.0)", [1, 4]),
    ],
)
def test_forms_keep_the_right_rows(text: str, expected: list[int] | None) -> None:
    if expected is None:
        with pytest.raises(InvalidInput) as caught:
            ids(text)
        assert caught.value.field == "filter"
    else:
        assert ids(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "is empty"),
        ("id >", "expected a value"),
        ("id 3", "expected a comparison"),
        ("nope = 1", "no column 'nope' at position 1"),
        ("id = 'one'", "cannot be compared with column 'id'"),
        ("city = 3", "cannot be compared with column 'city'"),
        ("ok = 1", "cannot be compared with column 'ok'"),
        ("day = 'soon'", "cannot be compared with column 'day'"),
        ("tags = 'x'", "cannot be compared with column 'tags'"),
        ("id = null", "use 'is null'"),
        ("id in (1, 2.5)", "do not all fit column 'id'"),
        ("id not 3", "expected 'in'"),
        ("id is 3", "expected 'null'"),
        ("(id > 1", "expected ')'"),
        ("id > 1)", "expected 'and', 'or' or the end"),
        ("id > 1; drop table t", "unexpected character ';'"),
        ("id > 'it''s", "unexpected character"),
        ("not " * 100 + "id > 1", "nested more than"),
        ("id > 1 or " * 2000 + "id > 1", "longer than"),
    ],
)
def test_refusals_name_the_field_and_the_problem(text: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_filter(text, TABLE.schema)
    assert caught.value.field == "filter"
    assert words in str(caught.value)
