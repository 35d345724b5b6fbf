"""Flattening capture rows: the CSV fast path and the JSON path agree with plain parsing."""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa

from shipyard.monitoring._features import Feature
from shipyard.monitoring._window import flatten

FEATURES = [Feature("a", "float"), Feature("b", "string"), Feature("n", "integer")]
COLUMNS = ["a", "b", "n"]


def _capture(
    rows: list[tuple[list[list[Any]], Any, Any]], columns: list[str] = COLUMNS
) -> pa.Table:
    inputs, outputs = [], []
    for data, prediction, probabilities in rows:
        inputs.append(orjson.dumps({"columns": columns, "data": data}).decode())
        outputs.append(
            orjson.dumps({"prediction": prediction, "probabilities": probabilities}).decode()
        )
    return pa.table(
        {
            "request_id": [f"r{i}" for i in range(len(rows))],
            "variant": ["v"] * len(rows),
            "input": inputs,
            "output": outputs,
        }
    )


def _sorted(table: pa.Table) -> list[dict[str, Any]]:
    return sorted(table.to_pylist(), key=lambda r: (r["request_id"], r["row"]))


PLAIN = [
    ([[1.5, "x", 3]], 1, [0.2, 0.8]),
    ([[None, "with, comma", 4]], 0, [0.9, 0.1]),
    ([[2.0, 'say "hi"', 5]], 1, [0.4, 0.6]),
    ([[3.0, "", None]], 0, [0.7, 0.3]),
    ([[4.0, "null", 7]], 1, [0.1, 0.9]),
    ([[5.0, 12, 8]], 0, [0.6, 0.4]),
    ([[6.0, "a"], [7.0, "b"]], [1, 0], [[0.3, 0.7], [0.8, 0.2]]),
]


def test_both_paths_read_every_kind_of_value() -> None:
    flat = _sorted(flatten(_capture(PLAIN[:-1]), FEATURES))
    assert [(r["f0"], r["f1"], r["f2"]) for r in flat] == [
        (1.5, "x", 3.0),
        (None, "with, comma", 4.0),
        (2.0, 'say "hi"', 5.0),
        (3.0, "", None),
        (4.0, "null", 7.0),
        (5.0, "12", 8.0),
    ]
    assert [r["prediction"] for r in flat] == ["1", "0", "1", "0", "1", "0"]
    assert flat[0]["probabilities"] == [0.2, 0.8]
    assert all(r["violations"] == 0 and r["has_input"] for r in flat)


def test_a_value_of_the_wrong_type_is_a_violation_and_the_rest_still_reads() -> None:
    rows = [([[1.0, "x", 1]], 1, None), ([["oops", "y", 2]], 0, None), ([[2.0, "z", 3]], 1, None)]
    flat = _sorted(flatten(_capture(rows), FEATURES))
    assert [(r["f0"], r["violations"]) for r in flat] == [(1.0, 0), (None, 1), (2.0, 0)]


def test_multi_row_requests_and_missing_columns() -> None:
    two_rows = [([[6.0, "a", 1], [7.0, "b", 2]], [1, 0], [[0.3, 0.7], [0.8, 0.2]])]
    flat = _sorted(flatten(_capture(two_rows), FEATURES))
    assert [(r["row"], r["f0"], r["prediction"], r["probabilities"]) for r in flat] == [
        (0, 6.0, "1", [0.3, 0.7]),
        (1, 7.0, "0", [0.8, 0.2]),
    ]
    narrow = _sorted(flatten(_capture([([[1.0, "x"]], 1, None)], ["a", "b"]), FEATURES))
    assert narrow[0]["f2"] is None and narrow[0]["violations"] == 1


def test_captured_text_never_becomes_part_of_a_query() -> None:
    columns = ["a", "b'); DROP TABLE cap; --", "n"]
    features = [Feature("a", "float"), Feature(columns[1], "string"), Feature("n", "integer")]
    rows = [([[1.0, "x", 2]], 1, None), ([[2.0, 'q"uote', 3]], 0, None)]
    flat = _sorted(flatten(_capture(rows, columns), features))
    assert [(r["f0"], r["f1"], r["f2"]) for r in flat] == [(1.0, "x", 2.0), (2.0, 'q"uote', 3.0)]
