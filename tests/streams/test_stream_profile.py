"""Merging a dataset profile with the next commit's: exact where it can be, marked where not."""

from __future__ import annotations

import pyarrow as pa
import pytest

from shipyard.data import profile_table
from shipyard.streams._profile import merge_profiles


def profile(table: pa.Table) -> dict[str, object]:
    return profile_table(table).model_dump(mode="json")


def only_profile(document: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in document.items() if k not in ("summary", "method")}


def test_exact_statistics_survive_the_merge() -> None:
    first = pa.table(
        {"id": [1, 2, 3], "x": [1.5, None, 4.0], "city": ["a", "b", "a"], "ok": [True, False, True]}
    )
    second = pa.table({"id": [4, 5], "x": [10.0, -2.0], "city": ["c", "a"], "ok": [False, False]})
    merged = merge_profiles(merge_profiles(None, first), second)
    whole = profile(pa.concat_tables([first, second]))
    assert merged["rows"] == whole["rows"] == 5
    for got, want in zip(merged["columns"], whole["columns"], strict=True):
        for key in ("count", "nulls", "null_fraction", "min", "max", "min_length", "max_length"):
            assert got.get(key) == pytest.approx(want.get(key)), (got["name"], key)
        if want.get("mean") is not None:
            assert got["mean"] == pytest.approx(want["mean"])
            assert got["std"] == pytest.approx(want["std"])
    by_name = {c["name"]: c for c in merged["columns"]}
    assert by_name["id"]["distinct"] == 5
    assert by_name["city"]["top_values"][0] == {"value": "a", "count": 3}
    # Small columns merge exactly: the merged profile is the whole table's.
    assert merged["method"]["approximate"] == {}
    assert only_profile(merged) == whole


def test_a_profile_stored_without_a_summary_is_converted_on_read() -> None:
    first = pa.table({"x": [1.0, 2.0, 3.0, 4.0], "city": ["a", "b", "a", "c"]})
    second = pa.table({"x": [5.0, 6.0], "city": ["a", "d"]})
    merged = merge_profiles(profile(first), second)
    whole = profile(pa.concat_tables([first, second]))
    x, city = merged["columns"]
    assert (x["count"], x["min"], x["max"]) == (6, 1.0, 6.0)
    assert x["mean"] == pytest.approx(whole["columns"][0]["mean"])
    assert x["std"] == pytest.approx(whole["columns"][0]["std"])
    assert city["top_values"][0] == {"value": "a", "count": 3}
    assert city["distinct"] >= 3
    assert set(merged["method"]["approximate"]["x"]) >= {"distinct"}
