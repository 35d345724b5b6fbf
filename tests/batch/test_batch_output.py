"""The batch output writer: canonical Parquet and a profile that needs bounded memory."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from shipyard.batch import OutputWriter
from shipyard.batch import _profile as streaming
from shipyard.data import profile_table, write_parquet_bytes


def _table(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=rows)
    values[::7] = np.nan
    start = dt.datetime(2024, 1, 1)
    return pa.table(
        {
            "id": pa.array(rng.integers(0, 50, size=rows)),
            "score": pa.array(values),
            "label": pa.array(rng.choice(["a", "bb", "ccc", None], size=rows).tolist()),
            "seen": pa.array(
                [start + dt.timedelta(hours=int(h)) for h in rng.integers(0, 999, rows)]
            ),
        }
    )


def _write(path: Path, chunks: list[pa.Table]) -> OutputWriter:
    writer = OutputWriter(path, sum(c.num_rows for c in chunks))
    for index, chunk in enumerate(chunks):
        writer.write(chunk, index)
    writer.close()
    return writer


def test_streamed_output_is_byte_identical_to_a_canonical_ingest(tmp_path: Path) -> None:
    chunks = [pa.table({"n": np.arange(i, i + 300_000)}) for i in range(0, 1_200_000, 300_000)]
    writer = _write(tmp_path / "out.parquet", chunks)
    whole = write_parquet_bytes(pa.concat_tables(chunks))
    streamed = (tmp_path / "out.parquet").read_bytes()
    assert hashlib.sha256(streamed).digest() == hashlib.sha256(whole).digest()
    assert writer.profile is not None and writer.profile.rows == 1_200_000


def test_small_outputs_get_the_exact_profile(tmp_path: Path) -> None:
    chunks = [_table(250, seed) for seed in range(4)]
    writer = _write(tmp_path / "out.parquet", chunks)
    assert writer.profile is not None
    schema, profile = writer.profile.result()
    expected = profile_table(pa.concat_tables(chunks)).model_dump(mode="json")
    assert profile == expected
    assert [c.nullable for c in schema] == [False, True, True, False]


def test_large_outputs_keep_exact_counts_and_moments_and_say_what_is_sampled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streaming, "SAMPLE_ROWS", 200)
    chunks = [_table(250, seed) for seed in range(4)]
    writer = _write(tmp_path / "out.parquet", chunks)
    assert writer.profile is not None
    _, profile = writer.profile.result()
    exact = profile_table(pa.concat_tables(chunks)).model_dump(mode="json")
    assert profile["rows"] == 1000
    assert profile["sample"]["estimated"] == ["distinct", "quantiles", "top_values"]
    assert 190 <= profile["sample"]["rows"] <= 210
    for got, want in zip(profile["columns"], exact["columns"], strict=True):
        for field in ("count", "nulls", "nans", "null_fraction", "min", "max"):
            assert got[field] == want[field], (got["name"], field)
        for field in ("mean", "std"):
            if want[field] is not None:
                assert got[field] == pytest.approx(want[field], rel=1e-9)
        assert (got["min_length"], got["max_length"]) == (want["min_length"], want["max_length"])
