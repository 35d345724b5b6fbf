"""Building blocks for endpoint and deployment tests: model versions, stats, captures, heartbeats.

The model is trained once per test session with the real training library, then
stored into each test's platform as a finished run and registered as versions.
"""

from __future__ import annotations

import functools
import io
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from shipyard.clock import utcnow
from shipyard.platform import Platform
from shipyard.registry import MODEL_ARTIFACT, MODEL_META, register_model, set_approval
from shipyard.security import context_for
from shipyard.store.metadata import endpoint_tables as et
from shipyard.store.metadata import tables as t
from shipyard.tracking import start_run, store_artifact
from shipyard.training import FitResult, TrainingSpec, fit

MODEL = "bc-model"
BOUNDS_MS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]


@functools.cache
def fitted() -> FitResult:
    """A small LightGBM classifier on the breast-cancer data, trained once."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    spec = TrainingSpec.model_validate(
        {
            "dataset": "bc@1",
            "target": "target",
            "task": "classification",
            "estimator": "lightgbm.LGBMClassifier",
            "params": {"n_estimators": 10, "num_leaves": 7},
            "split": {"kind": "holdout", "test_size": 0.25, "seed": 7},
        }
    )
    return fit(spec, pa.Table.from_pandas(frame, preserve_index=False))


def register_versions(
    platform: Platform, count: int = 2, *, model: str = MODEL, approve: bool = False
) -> list[int]:
    """Register ``count`` versions of the fitted model; returns their version numbers."""
    result = fitted()
    with platform.db.session() as session:
        run = start_run(session, experiment="tests", principal="admin", name="fixture")
        store_artifact(platform, session, run.id, MODEL_ARTIFACT, result.model_bytes)
        meta = {
            "flavor": result.flavor,
            "digest": result.digest,
            "signature": result.signature.model_dump(mode="json"),
        }
        store_artifact(platform, session, run.id, MODEL_META, orjson.dumps(meta))
        sink = io.BytesIO()
        pq.write_table(result.validation, sink)
        store_artifact(platform, session, run.id, "model/validation.parquet", sink.getvalue())
        run.status = "finished"
        run_id = run.id
    ctx = context_for(platform, "admin")
    versions = [register_model(ctx, model, run_id).version for _ in range(count)]
    if approve:
        for version in versions:
            set_approval(ctx, model, version, "Approved")
    return versions


def break_version(platform: Platform, version: int, model: str = MODEL) -> None:
    """Point a version at bytes that are not a model (the digest matches, the load fails)."""
    digest = platform.blobs.put_bytes(b"this is not a LightGBM model")
    with platform.db.session() as session:
        row = session.scalar(
            sa.select(t.ModelVersion)
            .join(t.Model, t.Model.id == t.ModelVersion.model_id)
            .where(t.Model.name == model, t.ModelVersion.version == version)
        )
        assert row is not None
        row.digest = digest


def latency_buckets(latencies_ms: list[float]) -> dict[str, Any]:
    counts = [0] * (len(BOUNDS_MS) + 1)
    for value in latencies_ms:
        counts[next((i for i, b in enumerate(BOUNDS_MS) if value <= b), len(BOUNDS_MS))] += 1
    return {"bounds": BOUNDS_MS, "counts": counts}


def write_stats(
    platform: Platform,
    endpoint: str,
    variant: str,
    *,
    requests: int,
    errors: int = 0,
    latency_ms: float = 2.0,
    worker: str = "w1",
    window_start: float | None = None,
    agreements: int = 0,
    comparisons: int = 0,
) -> None:
    """One serving worker's window of a variant, as the data plane writes it."""
    start = window_start if window_start is not None else time.time() // 10 * 10
    with platform.db.session() as session:
        session.merge(
            et.VariantStats(
                endpoint=endpoint,
                variant=variant,
                worker=worker,
                window_start=start,
                requests=requests,
                errors=errors,
                latency_sum_ms=latency_ms * requests,
                latency_buckets=latency_buckets([latency_ms] * requests),
                shadow_agreements=agreements,
                shadow_comparisons=comparisons,
                updated_at=time.time(),
            )
        )


def heartbeat(
    platform: Platform,
    endpoint: str,
    *,
    generation: int,
    variants: list[str],
    worker: str = "w1",
    failed_generation: int | None = None,
    error: str = "",
) -> None:
    with platform.db.session() as session:
        session.merge(
            et.EndpointInstance(
                endpoint=endpoint,
                worker=worker,
                generation=generation,
                variants=variants,
                failed_generation=failed_generation,
                error=error,
                url="http://127.0.0.1:0",
                started_at=time.time(),
                heartbeat_at=time.time(),
            )
        )


def write_capture(platform: Platform, endpoint: str, records: list[dict[str, Any]]) -> str:
    """Captured requests as one Parquet blob in the agreed layout; returns its digest."""
    now = utcnow()
    table = pa.table(
        {
            "request_id": pa.array([r["request_id"] for r in records], pa.string()),
            "time": pa.array([now] * len(records), pa.timestamp("us", tz="UTC")),
            "variant": pa.array([r["variant"] for r in records], pa.string()),
            "model_version": pa.array([r.get("model_version", 1) for r in records], pa.int64()),
            "input": pa.array([orjson.dumps(r.get("input", {})).decode() for r in records]),
            "output": pa.array(
                [orjson.dumps({"prediction": r["prediction"]}).decode() for r in records]
            ),
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    digest = platform.blobs.put_bytes(sink.getvalue())
    with platform.db.session() as session:
        session.add(
            et.CaptureFile(
                endpoint=endpoint,
                hour=datetime.now(UTC).strftime("%Y-%m-%dT%H"),
                digest=digest,
                rows=len(records),
            )
        )
    return digest


def request_id() -> str:
    return uuid.uuid4().hex
