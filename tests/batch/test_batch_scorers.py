"""Where chunks are scored: job-process threads, or a spawn pool started when it pays off."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import lightgbm
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from batchkit import FEATURES
from sklearn.linear_model import LogisticRegression
from tests.edge.edgekit import signature_of

from shipyard.batch import _scorers
from shipyard.batch._plan import plan_output
from shipyard.batch._scorers import PoolScorer, Scored, ThreadScorer, open_scorer
from shipyard.batch._scoring import ChunkScorer, decode_chunk, encode_chunk, load_model
from shipyard.flavors import ModelSignature, save_model
from shipyard.store.blobs import BlobStore, open_blob_store


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return open_blob_store((tmp_path / "blobs").as_uri())


def _signature(rows: pd.DataFrame) -> ModelSignature:
    return signature_of(rows[[*FEATURES, "y"]], "y", [0, 1])


def _model(blobs: BlobStore, estimator: object, signature: ModelSignature) -> tuple[str, str, str]:
    flavor, data = save_model(estimator)
    return flavor, blobs.put_bytes(data), signature.model_dump_json()


def _batches(rows: pd.DataFrame, size: int) -> Iterator[pa.RecordBatch]:
    table = pa.Table.from_pandas(rows[["id", *FEATURES]], preserve_index=False)
    yield from table.to_batches(max_chunksize=size)


def _scored(blobs: BlobStore, futures: list[Future[Scored]], rows: pd.DataFrame) -> pd.DataFrame:
    """Outputs in order; each must also be what was stored under its digest."""
    outputs = []
    for future in futures:
        digest, output = future.result(timeout=120)
        assert decode_chunk(blobs.get_bytes(digest)).equals(output)
        outputs.append(output)
    frame = pa.concat_tables(outputs).to_pandas()
    np.testing.assert_array_equal(frame["id"], rows["id"])
    return frame


def test_chunk_outputs_round_trip_and_parquet_chunks_of_older_jobs_still_read() -> None:
    table = pa.table({"id": [1, 2, 3], "prediction": ["a", None, "c"], "p": [0.1, 0.5, 0.9]})
    assert decode_chunk(encode_chunk(table)).equals(table)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="lz4")
    assert decode_chunk(sink.getvalue()).equals(table)


def test_native_flavors_score_on_threads_of_the_job_process(
    blobs: BlobStore, rows: pd.DataFrame, booster: lightgbm.LGBMClassifier
) -> None:
    signature = _signature(rows)
    model = _model(blobs, booster, signature)
    plan = plan_output(signature, list(rows.columns), ["id"], None)
    local = ChunkScorer(load_model(blobs, model), plan, blobs)
    scorer = open_scorer(
        model[0], local, 2, 6, (blobs.url, {}, None, model, plan.model_dump_json())
    )
    assert isinstance(scorer, ThreadScorer) and scorer.slots == 2
    try:
        futures = [scorer.submit(batch) for batch in _batches(rows, 500)]
        frame = _scored(blobs, futures, rows)
    finally:
        scorer.close()
    expected = booster.predict_proba(rows[FEATURES].to_numpy())
    np.testing.assert_allclose(frame[["probability_0", "probability_1"]], expected, atol=1e-12)
    assert "thread" in scorer.describe()


def _logistic(
    blobs: BlobStore, rows: pd.DataFrame
) -> tuple[LogisticRegression, ChunkScorer, tuple[str, str, str], str]:
    estimator = LogisticRegression().fit(rows[FEATURES].to_numpy(), rows["y"])
    signature = _signature(rows)
    model = _model(blobs, estimator, signature)
    plan = plan_output(signature, list(rows.columns), ["id"], ["probability_1"])
    return (
        estimator,
        ChunkScorer(load_model(blobs, model), plan, blobs),
        model,
        plan.model_dump_json(),
    )


def test_other_flavors_stay_in_the_job_process_when_workers_would_not_pay_off(
    blobs: BlobStore, rows: pd.DataFrame
) -> None:
    estimator, local, model, plan = _logistic(blobs, rows)
    assert model[0] not in _scorers.NATIVE_FLAVORS
    scorer = open_scorer(model[0], local, 2, 6, (blobs.url, {}, None, model, plan))
    assert isinstance(scorer, PoolScorer)
    try:
        futures = [scorer.submit(batch) for batch in _batches(rows, 500)]
        frame = _scored(blobs, futures, rows)
    finally:
        scorer.close()
    assert scorer.chunks_on_workers == 0 and "too little work" in scorer.describe()
    expected = estimator.predict_proba(rows[FEATURES].to_numpy())[:, 1]
    np.testing.assert_allclose(frame["probability_1"], expected, atol=1e-12)


def test_workers_start_when_the_work_left_outweighs_their_start_up(
    blobs: BlobStore, rows: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_scorers, "WORKER_START_SECONDS", 0.0)
    estimator, local, model, plan = _logistic(blobs, rows)
    scorer = PoolScorer(local, 2, 1000, (blobs.url, {}, None, model, plan))
    batches = list(_batches(rows, 100))
    try:
        first = scorer.submit(batches[0])
        first.result(timeout=120)  # timed in the job process, so the next submit decides
        futures = [first, scorer.submit(batches[1])]
        deadline = time.monotonic() + 120
        while scorer.workers_ready < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        futures += [scorer.submit(batch) for batch in batches[2:]]
        frame = _scored(blobs, futures, rows)
    finally:
        scorer.close()
    assert 0 < scorer.chunks_on_workers < len(batches), scorer.describe()
    assert "worker process" in scorer.describe()
    expected = estimator.predict_proba(rows[FEATURES].to_numpy())[:, 1]
    np.testing.assert_allclose(frame["probability_1"], expected, atol=1e-12)
