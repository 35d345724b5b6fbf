"""Registering locally fitted models with lineage to a dataset, without a training job."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from shipyard.datasets import DatasetVersionInfo, ingest
from shipyard.flavors import ColumnSpec, ModelSignature, save_model
from shipyard.platform import Platform
from shipyard.registry import MODEL_ARTIFACT, MODEL_META, ModelVersionInfo, register_model
from shipyard.security import context_for
from shipyard.store.metadata import tables as t
from shipyard.tracking import start_run, store_artifact


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
    return sink.getvalue()


def ingest_frame(platform: Platform, name: str, frame: pd.DataFrame) -> DatasetVersionInfo:
    content = parquet_bytes(frame)
    return ingest(context_for(platform, "admin"), name, content, filename=f"{name}.parquet")


def signature_of(frame: pd.DataFrame, target: str, classes: list[Any] | None) -> ModelSignature:
    kinds = {"f": "float", "i": "integer", "b": "boolean", "O": "string"}
    return ModelSignature(
        inputs=[
            ColumnSpec(name=str(c), type=kinds[frame[c].dtype.kind])  # type: ignore[arg-type]
            for c in frame.columns
            if c != target
        ],
        task="regression" if classes is None else "classification",
        target=target,
        classes=classes,
    )


def register_fitted(
    platform: Platform,
    name: str,
    estimator: Any,
    signature: ModelSignature,
    dataset: DatasetVersionInfo | None,
    artifacts: dict[str, bytes] | None = None,
) -> ModelVersionInfo:
    """Store a fitted estimator as a finished run's model (reading ``dataset``), register it.

    ``artifacts`` are logged on the run too, as a user's own run might.
    """
    flavor, data = save_model(estimator)
    with platform.db.session() as session:
        run = start_run(session, experiment="tests", principal="admin")
        if dataset is not None:
            version_id = session.scalar(
                sa.select(t.DatasetVersion.id).where(t.DatasetVersion.digest == dataset.digest)
            )
            session.add(t.RunInput(run_id=run.id, dataset_version_id=version_id))
        artifact = store_artifact(platform, session, run.id, MODEL_ARTIFACT, data)
        meta = {
            "flavor": flavor,
            "digest": artifact.digest,
            "signature": signature.model_dump(mode="json"),
        }
        store_artifact(platform, session, run.id, MODEL_META, orjson.dumps(meta))
        for path, content in (artifacts or {}).items():
            store_artifact(platform, session, run.id, path, content)
        run.status = "finished"
        run_id = run.id
    return register_model(context_for(platform, "admin"), name, run_id)


def numeric_frame(rows: int, width: int, seed: int = 0) -> pd.DataFrame:
    """Features f0..fN and a binary label y that depends on them."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, width))
    frame = pd.DataFrame({f"f{i}": x[:, i] for i in range(width)})
    frame["y"] = (x[:, 0] + 0.5 * x[:, 1] - 0.25 * x[:, 2] > 0).astype(np.int64)
    return frame
