"""The monitor bench's data: a Shipyard home holding a baseline dataset, a LightGBM model
trained on it (lineage recorded), an endpoint, and a day of capture in the serving
workers' layout (hourly Parquet, JSON input and output); and the same window as flat
Parquet files for the peers (features, probabilities, the baseline's labels)."""

from __future__ import annotations

import io
from pathlib import Path

import lightgbm
import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

NUMERIC = [f"n{i:02d}" for i in range(16)]
CATEGORICAL = [f"c{i:02d}" for i in range(4)]
FEATURES = NUMERIC + CATEGORICAL
SHIFTED = {"n01", "n05", "n09", "c01"}
BASELINE_ROWS = 100_000
DAY = 86_400.0


def table(rows: int, seed: int, shifted: bool) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Features, the positive-class probability (calibrated) and a label drawn from it."""
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {}
    for i, name in enumerate(NUMERIC):
        move = 0.5 if shifted and name in SHIFTED else 0.0
        columns[name] = rng.normal(move, 1.0 + i % 3, rows)
    for i, name in enumerate(CATEGORICAL):
        levels = np.array([f"v{j}" for j in range(4 + 4 * i)], dtype=object)
        weights = np.linspace(1.0, 3.0, len(levels))
        if shifted and name in SHIFTED:
            weights = weights[::-1]
        columns[name] = levels[rng.choice(len(levels), rows, p=weights / weights.sum())]
    frame = pd.DataFrame(columns)
    logit = frame["n00"] - 0.5 * frame["n01"] + 0.3 * frame["n02"] + (frame["c00"] == "v0") - 0.2
    positive = 1 / (1 + np.exp(-logit.to_numpy()))
    label = (rng.random(rows) < positive).astype(int)
    return frame, positive, label


def build(directory: Path, rows: int) -> None:
    """Everything the bench reads, under ``directory`` (made once per row count)."""
    from shipyard.clock import utcnow
    from shipyard.config import Settings
    from shipyard.datasets import ingest
    from shipyard.flavors import ColumnSpec, ModelSignature, save_model
    from shipyard.platform import Platform
    from shipyard.registry import MODEL_ARTIFACT, MODEL_META, register_model
    from shipyard.security import bootstrap, context_for
    from shipyard.store.metadata import endpoint_tables as et
    from shipyard.store.metadata import tables as t
    from shipyard.tracking import start_run, store_artifact

    directory.mkdir(parents=True, exist_ok=True)
    platform = Platform.open(Settings(home=directory / "home"))
    bootstrap(platform)
    ctx = context_for(platform, "admin")
    base, base_positive, base_label = table(BASELINE_ROWS, 1, False)
    stored = base.assign(label=base_label)
    sink = io.BytesIO()
    stored.to_parquet(sink, index=False)
    ingest(ctx, "baseline", sink.getvalue(), filename="baseline.parquet")
    coded = base.copy()
    for name in CATEGORICAL:
        coded[name] = pd.Categorical(coded[name], categories=sorted(set(coded[name])))
    model = lightgbm.LGBMClassifier(n_estimators=50, num_leaves=15, verbose=-1).fit(
        coded, base_label
    )
    signature = ModelSignature(
        inputs=[ColumnSpec(name=n, type="float") for n in NUMERIC]
        + [ColumnSpec(name=n, type="string") for n in CATEGORICAL],
        task="classification",
        target="label",
        classes=[0, 1],
    )
    flavor, blob = save_model(model)
    with platform.db.session() as session:
        run = start_run(session, experiment="bench", principal="admin")
        artifact = store_artifact(platform, session, run.id, MODEL_ARTIFACT, blob)
        meta = {"flavor": flavor, "digest": artifact.digest, "signature": signature.model_dump()}
        store_artifact(platform, session, run.id, MODEL_META, orjson.dumps(meta))
        session.add(t.RunInput(run_id=run.id, dataset_version_id=1))
        run.status, run.end_time = "finished", utcnow()
        run_id = run.id
    register_model(ctx, "model", run_id)
    from shipyard.endpoints import create_endpoint

    create_endpoint(ctx, "ep", model="model@1")

    start = 1_800_000_000.0  # a whole UTC day: 2027-01-15 08:00 .. the next day
    schema = pa.schema(
        [
            ("request_id", pa.string()),
            ("time", pa.timestamp("us", tz="UTC")),
            ("variant", pa.string()),
            ("model_version", pa.int64()),
            ("input", pa.string()),
            ("output", pa.string()),
        ]
    )
    names = list(FEATURES)
    flat: pq.ParquetWriter | None = None
    scored: list[np.ndarray] = []
    for hour in range(24):  # an hour at a time, so the day never sits in memory
        count = rows * (hour + 1) // 24 - rows * hour // 24
        current, positive, _ = table(count, 100 + hour, True)
        scored.append(positive)
        times = start + hour * 3600 + np.sort(np.random.default_rng(hour).random(count)) * 3600
        values = current[FEATURES].to_numpy(dtype=object).tolist()
        scores = positive.tolist()
        inputs = [orjson.dumps({"columns": names, "data": [row]}).decode() for row in values]
        outputs = [
            orjson.dumps({"prediction": int(p > 0.5), "probabilities": [1 - p, p]}).decode()
            for p in scores
        ]
        part = pa.table(
            {
                "request_id": [f"r{hour}-{i}" for i in range(count)],
                "time": (times * 1_000_000).astype(np.int64),
                "variant": ["primary"] * count,
                "model_version": [1] * count,
                "input": inputs,
                "output": outputs,
            },
            schema=schema,
        )
        out = io.BytesIO()
        pq.write_table(part, out, compression="zstd")
        digest = platform.blobs.put_bytes(out.getvalue())
        label = pd.Timestamp(start + hour * 3600, unit="s", tz="UTC").strftime("%Y-%m-%dT%H")
        with platform.db.session() as session:
            session.add(et.CaptureFile(endpoint="ep", hour=label, digest=digest, rows=count))
        piece = pa.Table.from_pandas(current, preserve_index=False)
        if flat is None:
            flat = pq.ParquetWriter(directory / "current.parquet", piece.schema)
        flat.write_table(piece)
    assert flat is not None
    flat.close()
    platform.close()
    positive = np.concatenate(scored)
    pq.write_table(
        pa.Table.from_pandas(base, preserve_index=False), directory / "reference.parquet"
    )
    pq.write_table(
        pa.table({"positive": base_positive, "label": base_label}),
        directory / "reference-scores.parquet",
    )
    pq.write_table(pa.table({"positive": positive}), directory / "current-scores.parquet")
    (directory / "window.json").write_text(
        orjson.dumps({"start": start, "end": start + DAY}).decode()
    )
