"""Bench helpers: a Shipyard home with a numeric dataset and a registered LightGBM model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from shipyard.data._parquet import ROW_GROUP_ROWS
from shipyard.datasets import find_version, write_version_from_batches
from shipyard.flavors import ColumnSpec, ModelSignature, save_model
from shipyard.platform import Platform
from shipyard.registry import MODEL_ARTIFACT, MODEL_META, register_model
from shipyard.security import context_for
from shipyard.store.metadata import tables as t
from shipyard.tracking import start_run, store_artifact

FEATURES = 10


def _rows(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(size=(n, FEATURES))
    y = x[:, 0] + 0.5 * x[:, 1] * x[:, 2] - 0.3 * x[:, 3] + rng.normal(scale=0.5, size=n) > 0
    return x, y.astype(np.int64)


def write_numeric_dataset(path: Path, rows: int, seed: int = 0) -> None:
    """``rows`` x (id, f0..f9) written in canonical row groups, never all in memory."""
    rng = np.random.default_rng(seed)
    schema = pa.schema([("id", pa.int64())] + [(f"f{i}", pa.float64()) for i in range(FEATURES)])
    with pq.ParquetWriter(
        path, schema, version="2.6", compression="zstd", compression_level=3
    ) as writer:
        for start in range(0, rows, ROW_GROUP_ROWS):
            n = min(ROW_GROUP_ROWS, rows - start)
            x, _ = _rows(rng, n)
            columns = [pa.array(np.arange(start, start + n))]
            columns += [pa.array(x[:, i]) for i in range(FEATURES)]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))


def register_dataset(platform: Platform, name: str, path: Path) -> t.DatasetVersion:
    """Store a local Parquet file as the next version of ``name``, batch by batch."""
    batches = pq.ParquetFile(path).iter_batches(batch_size=ROW_GROUP_ROWS)
    info = write_version_from_batches(platform, name, batches, source=path.name, created_by="admin")
    with platform.db.session() as session:
        return find_version(session, name, info.version)


def train_lightgbm(trees: int, sample_rows: int = 50_000) -> lightgbm.LGBMClassifier:
    x, y = _rows(np.random.default_rng(1), sample_rows)
    model = lightgbm.LGBMClassifier(n_estimators=trees, num_leaves=31, verbose=-1)
    return model.fit(x, y)


def register(
    platform: Platform, name: str, estimator: Any, dataset: t.DatasetVersion | None
) -> None:
    """Store ``estimator`` as a finished run's model (reading ``dataset``) and register it."""
    signature = ModelSignature(
        inputs=[ColumnSpec(name=f"f{i}", type="float") for i in range(FEATURES)],
        task="classification",
        target="y",
        classes=[0, 1],
    )
    flavor, data = save_model(estimator)
    with platform.db.session() as session:
        run = start_run(session, experiment="bench", principal="admin")
        if dataset is not None:
            session.add(t.RunInput(run_id=run.id, dataset_version_id=dataset.id))
        artifact = store_artifact(platform, session, run.id, MODEL_ARTIFACT, data)
        meta = {"flavor": flavor, "digest": artifact.digest, "signature": signature.model_dump()}
        store_artifact(platform, session, run.id, MODEL_META, orjson.dumps(meta))
        run.status = "finished"
        run_id = run.id
    register_model(context_for(platform, "admin"), name, run_id)
