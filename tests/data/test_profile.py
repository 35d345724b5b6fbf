"""profile_table checked against numpy and pandas on the same data."""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from shipyard.data import ColumnProfile, DatasetProfile, profile_table, read_table
from shipyard.errors import InvalidInput

QUANTILE_POINTS = {"p01": 1, "p05": 5, "p25": 25, "p50": 50, "p75": 75, "p95": 95, "p99": 99}


def column(profile: DatasetProfile, name: str) -> ColumnProfile:
    return next(item for item in profile.columns if item.name == name)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = 5_000
    score = rng.normal(10.0, 3.0, rows)
    score[rng.random(rows) < 0.1] = np.nan
    age = pd.array(rng.integers(18, 90, rows), dtype="Int64")
    age[::50] = pd.NA
    city = rng.choice(
        ["Oslo", "Lima", "Pune", "Kyoto", "Accra"], rows, p=[0.4, 0.3, 0.15, 0.1, 0.05]
    )
    city[::40] = None
    return pd.DataFrame(
        {
            "age": age,
            "score": score,
            "city": city,
            "member": rng.random(rows) < 0.25,
            "joined": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 10**8, rows), "s"),
        }
    )


@pytest.fixture(scope="module")
def profile(frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> DatasetProfile:
    path = tmp_path_factory.mktemp("profile") / "people.csv"
    frame.to_csv(path, index=False)
    return profile_table(read_table(path))


def test_counts(profile: DatasetProfile, frame: pd.DataFrame) -> None:
    assert profile.rows == len(frame)
    assert [item.name for item in profile.columns] == list(frame.columns)
    for name in frame.columns:
        stats = column(profile, name)
        assert stats.nulls == frame[name].isna().sum()
        assert stats.count == frame[name].notna().sum()
        assert stats.null_fraction == pytest.approx(frame[name].isna().mean())
        assert stats.distinct == frame[name].nunique()


def test_integer_statistics(profile: DatasetProfile, frame: pd.DataFrame) -> None:
    stats = column(profile, "age")
    values = frame["age"].dropna().to_numpy(dtype=float)

    assert stats.type == "integer"
    assert stats.min == int(values.min()) and isinstance(stats.min, int)
    assert stats.max == int(values.max()) and isinstance(stats.max, int)
    assert stats.mean == pytest.approx(values.mean())
    assert stats.std == pytest.approx(values.std(ddof=1))
    assert stats.quantiles is not None
    for key, point in QUANTILE_POINTS.items():
        assert getattr(stats.quantiles, key) == pytest.approx(np.percentile(values, point))
    assert stats.top_values is None


def test_float_statistics_leave_out_nan(profile: DatasetProfile, frame: pd.DataFrame) -> None:
    stats = column(profile, "score")
    values = frame["score"].to_numpy()

    assert stats.type == "float"
    assert stats.nulls == np.isnan(values).sum() > 0
    assert stats.min == pytest.approx(np.nanmin(values))
    assert stats.max == pytest.approx(np.nanmax(values))
    assert stats.mean == pytest.approx(np.nanmean(values))
    assert stats.std == pytest.approx(np.nanstd(values, ddof=1))
    assert stats.quantiles is not None
    for key, point in QUANTILE_POINTS.items():
        assert getattr(stats.quantiles, key) == pytest.approx(np.nanpercentile(values, point))


def test_nan_counts_as_missing_in_a_float_column() -> None:
    table = pa.table({"x": pa.array([1.0, float("nan"), None, 3.0])})

    stats = profile_table(table).columns[0]

    assert (stats.count, stats.nulls, stats.nans, stats.distinct) == (2, 2, 1, 2)
    assert stats.mean == 2.0


def test_string_statistics(profile: DatasetProfile, frame: pd.DataFrame) -> None:
    stats = column(profile, "city")
    counts = frame["city"].value_counts()
    lengths = frame["city"].dropna().str.len()

    assert stats.type == "string"
    assert stats.top_values is not None
    assert [(item.value, item.count) for item in stats.top_values] == list(counts.items())
    assert (stats.min_length, stats.max_length) == (lengths.min(), lengths.max())
    assert stats.mean is None and stats.quantiles is None


def test_top_values_keep_ten_and_break_ties_by_value() -> None:
    values = [f"v{i:02d}" for i in range(20)] + ["v19", "v19", "v05"]

    stats = profile_table(pa.table({"s": values})).columns[0]

    assert stats.top_values is not None
    assert [(item.value, item.count) for item in stats.top_values] == [
        ("v19", 3),
        ("v05", 2),
        *[(f"v{i:02d}", 1) for i in (0, 1, 2, 3, 4, 6, 7, 8)],
    ]
    assert stats.distinct == 20


def test_boolean_statistics(profile: DatasetProfile, frame: pd.DataFrame) -> None:
    stats = column(profile, "member")
    trues = int(frame["member"].sum())

    assert stats.type == "boolean"
    assert stats.top_values is not None
    assert [(item.value, item.count) for item in stats.top_values] == [
        (False, len(frame) - trues),
        (True, trues),
    ]


def test_timestamp_statistics(profile: DatasetProfile, frame: pd.DataFrame) -> None:
    stats = column(profile, "joined")

    assert stats.type == "timestamp"
    assert stats.min == frame["joined"].min().isoformat()
    assert stats.max == frame["joined"].max().isoformat()


def test_date_and_zoned_timestamp_extremes_are_iso_strings() -> None:
    zone = datetime.UTC
    table = pa.table(
        {
            "day": [datetime.date(2024, 3, 1), None, datetime.date(2023, 12, 31)],
            "at": pa.array(
                [datetime.datetime(2024, 1, 1, 8, tzinfo=zone), None, None],
                pa.timestamp("us", tz="UTC"),
            ),
        }
    )

    day, at = profile_table(table).columns

    assert (day.type, day.min, day.max) == ("date", "2023-12-31", "2024-03-01")
    assert at.type == "timestamp"
    assert at.min == at.max == "2024-01-01T08:00:00+00:00"


def test_all_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("id,note,score\n1,,\n2,,\n")
    table = read_table(path).set_column(2, "score", pa.array([None, float("nan")], pa.float64()))

    _, note, score = profile_table(table).columns

    assert (note.type, note.count, note.nulls, note.null_fraction) == ("string", 0, 2, 1.0)
    assert note.top_values == [] and note.min_length is None
    assert (score.count, score.nulls, score.nans, score.distinct) == (0, 2, 1, 0)
    assert score.mean is None and score.quantiles is None and score.min is None


def test_one_value_has_no_standard_deviation() -> None:
    stats = profile_table(pa.table({"x": [4]})).columns[0]

    assert (stats.mean, stats.std, stats.min, stats.max) == (4.0, None, 4, 4)


def test_profile_round_trips_through_strict_json_even_with_infinities() -> None:
    profile = profile_table(pa.table({"x": [1.5, float("inf")], "s": ["a", "b"]}))
    text = profile.model_dump_json()

    restored = DatasetProfile.model_validate_json(text)

    json.loads(text, parse_constant=pytest.fail)
    assert restored.columns[0].max == float("inf")
    assert restored.columns[0].std is not None and math.isnan(restored.columns[0].std)
    assert restored.columns[1] == profile.columns[1]


def test_unsupported_column_type_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="column 'tags'"):
        profile_table(pa.table({"tags": [[1, 2]]}))


def test_a_million_rows() -> None:
    rng = np.random.default_rng(1)
    rows = 1_000_000
    table = pa.table(
        {
            "i": rng.integers(0, 1_000, rows),
            "f": rng.random(rows),
            "s": pa.array(np.array(["a", "b", "c"])[rng.integers(0, 3, rows)]),
            "b": rng.random(rows) < 0.5,
            "t": pa.array(rng.integers(0, 10**9, rows).astype("datetime64[s]")),
        }
    )

    profile = profile_table(table)

    assert profile.rows == rows
    assert [item.count for item in profile.columns] == [rows] * 5
    assert column(profile, "s").distinct == 3
