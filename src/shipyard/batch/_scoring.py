"""Scoring chunks in pool processes: each loads the model once, then scores Arrow batches.

A scored chunk is written as Parquet into the blob store before it is reported
back, so the job can record it as finished and a resumed job can reuse it.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shipyard.batch._plan import PREDICTION, OutputPlan
from shipyard.flavors import ModelSignature, Predictor
from shipyard.store.blobs import BlobStore, open_blob_store


@dataclass
class _Worker:
    predictor: Predictor
    plan: OutputPlan
    blobs: BlobStore
    scratch: Path


_worker: _Worker | None = None


def init_worker(
    blob_url: str,
    storage_options: dict[str, Any],
    model: tuple[str, str, str],
    plan_json: str,
    scratch: str,
) -> None:
    """Pool initializer: load the model (``flavor, digest, signature JSON``) once per process.

    Workers touch only the blob store, never the metadata database.
    """
    global _worker
    from shipyard.flavors import load_predictor

    _exit_with_parent()
    flavor, digest, signature_json = model
    blobs = open_blob_store(blob_url, storage_options=storage_options)
    signature = ModelSignature.model_validate_json(signature_json)
    predictor = load_predictor(flavor, blobs.get_bytes(digest), signature, expected_digest=digest)
    plan = OutputPlan.model_validate_json(plan_json)
    _worker = _Worker(predictor, plan, blobs, Path(scratch))


def _exit_with_parent() -> None:
    """End this process when the job process dies, so a crashed job leaves no orphans."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def ready() -> bool:
    """A no-op task: submitting one per worker starts the pool (and loads the model) early."""
    return _worker is not None


def score_chunk(index: int, batch: pa.RecordBatch) -> tuple[int, str, pa.Table]:
    """Score one chunk, store its output Parquet; return ``(index, digest, output)``."""
    assert _worker is not None, "init_worker did not run in this process"
    output = score_batch(_worker.predictor, _worker.plan, batch)
    fd, name = tempfile.mkstemp(dir=_worker.scratch, prefix=f"chunk-{index}-", suffix=".parquet")
    os.close(fd)
    try:
        pq.write_table(output, name, compression="lz4")
        digest = _worker.blobs.put_file(name)
    finally:
        Path(name).unlink(missing_ok=True)
    return index, digest, output


def score_batch(predictor: Predictor, plan: OutputPlan, batch: pa.RecordBatch) -> pa.Table:
    """The output columns for one batch: kept input columns, prediction, probabilities."""
    names = predictor.signature.input_names
    if predictor.accepts_ndarray:
        features = np.empty((batch.num_rows, len(names)))
        for j, name in enumerate(names):
            column = pc.cast(batch.column(name), pa.float64())
            features[:, j] = column.to_numpy(zero_copy_only=False)
        prediction = predictor.predict(features)
    else:
        prediction = predictor.predict(batch.select(names).to_pandas())
    columns: dict[str, pa.Array] = {name: batch.column(name) for name in plan.keep}
    if plan.prediction:
        labels = pa.array(prediction.predictions)
        columns[PREDICTION] = (
            labels.cast(pa.string()) if pa.types.is_large_string(labels.type) else labels
        )
    if plan.probabilities:
        assert prediction.probabilities is not None
        for position, name in plan.probabilities:
            columns[name] = pa.array(prediction.probabilities[:, position])
    return pa.table(columns)
