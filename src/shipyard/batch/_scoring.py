"""Scoring one chunk: the model's outputs for an Arrow batch, stored before it counts as done.

A scored chunk is written into the blob store before it is reported back, so the
job can record it as finished and a resumed job can reuse it. Chunk outputs are
Arrow IPC streams (LZ4): cheap to write and read back, and no code is run to
load them. Pool workers (spawned processes) load the model once in
``init_worker``; the job process's own threads call ``score_and_store``.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from shipyard.batch._plan import PREDICTION, OutputPlan
from shipyard.flavors import ModelSignature, Predictor
from shipyard.flavors._timestamps import arrow_epoch_seconds
from shipyard.store.blobs import BlobStore, open_blob_store

_PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class ChunkScorer:
    """What scoring a chunk needs: the loaded model, the output plan, where outputs go."""

    predictor: Predictor
    plan: OutputPlan
    blobs: BlobStore

    def __call__(self, batch: pa.RecordBatch) -> tuple[str, pa.Table]:
        return score_and_store(self, batch)

    def score(self, batch: pa.RecordBatch) -> pa.Table:
        return score_batch(self.predictor, self.plan, batch)

    def store(self, output: pa.Table) -> str:
        """Write a chunk's output into the blob store (durably); its digest."""
        return self.blobs.put_bytes(encode_chunk(output))


def score_and_store(scorer: ChunkScorer, batch: pa.RecordBatch) -> tuple[str, pa.Table]:
    """Score one chunk and store its output; return ``(digest, output)``."""
    output = scorer.score(batch)
    return scorer.store(output), output


def encode_chunk(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression="lz4")
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def decode_chunk(data: bytes) -> pa.Table:
    """A stored chunk output; chunks recorded before outputs were IPC streams are Parquet."""
    if data[:4] == _PARQUET_MAGIC:
        return pq.read_table(pa.BufferReader(data))
    with pa.ipc.open_stream(pa.BufferReader(data)) as reader:
        return reader.read_all()


def score_batch(predictor: Predictor, plan: OutputPlan, batch: pa.RecordBatch) -> pa.Table:
    """The output columns for one batch: kept input columns, prediction, probabilities."""
    names = predictor.signature.input_names
    if predictor.accepts_ndarray:
        features = np.empty((batch.num_rows, len(names)))
        for j, name in enumerate(names):
            features[:, j] = arrow_epoch_seconds(batch.column(name))
        prediction = predictor.predict(features)
    else:
        frame = batch.select(names).to_pandas()
        for column in predictor.signature.inputs:
            if column.type == "timestamp":
                frame[column.name] = arrow_epoch_seconds(batch.column(column.name))
        prediction = predictor.predict(frame)
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


_worker: ChunkScorer | None = None


def init_worker(
    blob_url: str,
    storage_options: dict[str, Any],
    encryption: dict[str, Any] | None,
    model: tuple[str, ...],
    plan_json: str,
) -> None:
    """Pool initializer: load the model (``flavor, digest, signature JSON``) once per process.

    Workers touch only the blob store, never the metadata database.
    """
    global _worker
    _exit_with_parent()
    blobs = open_blob_store(blob_url, storage_options=storage_options, encryption=encryption)
    predictor = load_model(blobs, model)
    _worker = ChunkScorer(predictor, OutputPlan.model_validate_json(plan_json), blobs)


def load_model(blobs: BlobStore, model: tuple[str, ...]) -> Predictor:
    """The predictor of ``(flavor, digest, signature JSON[, code digest, registered by])``
    (the code fields only for code and PyTorch models), its bytes checked on the way."""
    from shipyard.flavors import CodeGrant, load_predictor

    flavor, digest, signature_json, *registered = model
    signature = ModelSignature.model_validate_json(signature_json)
    code = CodeGrant(registered[0], registered[1]) if len(registered) == 2 else None
    return load_predictor(
        flavor,
        blobs.get_bytes(digest),
        signature,
        expected_digest=digest,
        fetch=blobs.get_bytes,
        code=code,
    )


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
    """A no-op task: one per worker starts the pool (and loads the model) early."""
    return _worker is not None


def score_chunk(batch: pa.RecordBatch) -> tuple[str, pa.Table]:
    """Score one chunk in a pool worker; return ``(digest, output)``."""
    assert _worker is not None, "init_worker did not run in this process"
    return score_and_store(_worker, batch)
