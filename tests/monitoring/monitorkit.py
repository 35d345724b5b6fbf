"""Building blocks for monitor tests: a training table, LightGBM versions registered with
their training data as lineage, an endpoint with capture served on 127.0.0.1, traffic."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import httpx
import lightgbm
import numpy as np
import orjson
import pandas as pd
import sqlalchemy as sa

from shipyard.clock import utcnow
from shipyard.datasets import ingest
from shipyard.flavors import ColumnSpec, ModelSignature, save_model
from shipyard.platform import Platform
from shipyard.registry import MODEL_ARTIFACT, MODEL_META, register_model
from shipyard.security import context_for
from shipyard.store.metadata import endpoint_tables as et
from shipyard.store.metadata import tables as t
from shipyard.tracking import start_run, store_artifact

FEATURES = ["colour", "x0", "x1", "x2"]
CAPTURE = {"enabled": True, "sampling_percent": 100, "mode": "both"}  # what monitors read
COLOURS = np.array(["red", "green", "blue"], dtype=object)
SIGNATURE = ModelSignature(
    inputs=[
        ColumnSpec(name="colour", type="string"),
        ColumnSpec(name="x0", type="float"),
        ColumnSpec(name="x1", type="float"),
        ColumnSpec(name="x2", type="float"),
    ],
    task="classification",
    target="label",
    classes=[0, 1],
)


def frame(rows: int, seed: int, *, drift: bool = False) -> pd.DataFrame:
    """Inputs and a label drawn from known probabilities (so the model is near calibrated).

    With ``drift``: x0 is stuck at 0, x2 is four times as wide, a fifth of x1 is missing
    and a tenth of the colours are "purple", which training never saw.
    """
    rng = np.random.default_rng(seed)
    colour = rng.choice(COLOURS, rows)
    x0, x1, x2 = rng.normal(size=rows), rng.normal(size=rows), rng.normal(size=rows)
    logit = 2.5 * x0 + 1.2 * (colour == "red") + 0.6 * x1 + 0.15 * x2 - 0.4
    label = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    if drift:
        x0 = np.zeros(rows)
        x2 = x2 * 4
        x1 = np.where(rng.random(rows) < 0.2, np.nan, x1)
        colour = np.where(rng.random(rows) < 0.1, "purple", colour)
    return pd.DataFrame({"colour": colour, "x0": x0, "x1": x1, "x2": x2, "label": label})


def _categorical(data: pd.DataFrame) -> pd.DataFrame:
    out = data[FEATURES].copy()
    out["colour"] = pd.Categorical(out["colour"], categories=sorted(COLOURS))
    return out


def ingest_training(platform: Platform, name: str = "train", rows: int = 3000) -> int:
    """Ingest the training table; returns the dataset version's row id."""
    sink = io.BytesIO()
    frame(rows, seed=1).to_parquet(sink, index=False)
    ctx = context_for(platform, "admin")
    ingest(ctx, name, sink.getvalue(), filename=f"{name}.parquet")
    with platform.db.session() as session:
        return int(
            session.scalar(
                sa.select(t.DatasetVersion.id)
                .join(t.Dataset, t.Dataset.id == t.DatasetVersion.dataset_id)
                .where(t.Dataset.name == name)
                .order_by(t.DatasetVersion.version.desc())
            )
        )


def register(
    platform: Platform, dataset_version_id: int | None, model: str = "churn", trees: int = 40
) -> int:
    """Fit and register the next version of ``model``, recording its training data (lineage)
    as a training job does."""
    data = frame(3000, seed=1)
    estimator = lightgbm.LGBMClassifier(n_estimators=trees, num_leaves=7, verbose=-1, n_jobs=1).fit(
        _categorical(data), data["label"]
    )
    return register_estimator(platform, estimator, dataset_version_id, model, SIGNATURE)


def register_estimator(
    platform: Platform,
    estimator: Any,
    dataset_version_id: int | None,
    model: str,
    signature: ModelSignature | None = None,
) -> int:
    """Register a fitted estimator (numeric inputs x0..x2 unless ``signature``)."""
    if signature is None:
        signature = ModelSignature(
            inputs=[ColumnSpec(name=n, type="float") for n in ("x0", "x1", "x2")],
            task="classification",
            target="label",
            classes=[0, 1],
        )
    flavor, blob = save_model(estimator)
    with platform.db.session() as session:
        run = start_run(session, experiment="monitors", principal="admin")
        artifact = store_artifact(platform, session, run.id, MODEL_ARTIFACT, blob)
        meta = {
            "flavor": flavor,
            "digest": artifact.digest,
            "signature": signature.model_dump(mode="json"),
        }
        store_artifact(platform, session, run.id, MODEL_META, orjson.dumps(meta))
        if dataset_version_id is not None:
            session.add(t.RunInput(run_id=run.id, dataset_version_id=dataset_version_id))
        run.status = "finished"
        run.end_time = utcnow()
        run_id = run.id
    return register_model(context_for(platform, "admin"), model, run_id).version


def records(data: pd.DataFrame) -> list[dict[str, Any]]:
    rows = data[FEATURES].astype(object).where(data[FEATURES].notna(), None)
    return [dict(zip(FEATURES, row, strict=True)) for row in rows.itertuples(index=False)]


def send(http: httpx.Client, data: pd.DataFrame, batch: int = 1) -> dict[str, list[int]]:
    """Send the rows (``batch`` rows a request); request id -> the labels of its rows."""
    sent = {}
    rows, labels = records(data), data["label"].astype(int).tolist()
    for start in range(0, len(rows), batch):
        response = http.post(
            "/invocations", json={"dataframe_records": rows[start : start + batch]}
        )
        assert response.status_code == 200, response.text
        sent[response.headers["x-request-id"]] = labels[start : start + batch]
    return sent


def captured_rows(platform: Platform, endpoint: str) -> int:
    with platform.db.session() as session:
        found = session.scalar(
            sa.select(sa.func.sum(et.CaptureFile.rows)).where(et.CaptureFile.endpoint == endpoint)
        )
    return int(found or 0)


def now() -> datetime:
    return datetime.now(UTC)


def write_capture(
    platform: Platform,
    endpoint: str,
    data: pd.DataFrame,
    variant: str = "primary",
    at: float | None = None,
) -> None:
    """Capture the rows as the serving workers would (one request a row, in their layout),
    with the model's answers taken as the labels."""
    import time
    import uuid

    from shipyard.flavors import Prediction
    from shipyard.serving._capture import CaptureRecord, capture_tables, parquet_bytes

    stamp = time.time() if at is None else at
    records = []
    for i in range(len(data)):
        row = data.iloc[[i]][FEATURES]
        label = int(data["label"].iloc[i])
        probability = np.array([[0.3, 0.7] if label else [0.8, 0.2]])
        records.append(
            CaptureRecord(
                uuid.uuid4().hex,
                stamp,
                variant,
                "1",
                tuple(FEATURES),
                row,
                Prediction(np.array([label]), probability),
            )
        )
    for hour, table in capture_tables(records).items():
        digest = platform.blobs.put_bytes(parquet_bytes(table))
        with platform.db.session() as session:
            session.add(
                et.CaptureFile(endpoint=endpoint, hour=hour, digest=digest, rows=table.num_rows)
            )
