"""The validation rows a model was scored on: sampled, bounded, stored by the worker beside it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from tests.fixtures.lifecycle import ingest_breast_cancer, lightgbm_spec

from shipyard.client import Client
from shipyard.edge import VALIDATION_ARTIFACT
from shipyard.flavors import ModelSignature, load_predictor
from shipyard.platform import Platform
from shipyard.registry import MODEL_ARTIFACT, MODEL_META
from shipyard.store.metadata import tables as t
from shipyard.training import VALIDATION_ROWS, fit, parse_spec, validation_parquet
from shipyard.training._split import content_order, holdout_split
from shipyard.training._validation import validation_rows


def test_validation_rows_are_all_held_out_rows_or_a_seeded_sorted_sample() -> None:
    few = np.array([9, 3, 7])
    assert validation_rows(few, seed=1).tolist() == [3, 7, 9]

    many = np.arange(0, 50_000, 2)
    first, again, other = (validation_rows(many, seed=s, limit=1000) for s in (4, 4, 5))
    assert len(first) == 1000 and len(np.unique(first)) == 1000
    assert np.all(np.diff(first) > 0) and np.isin(first, many).all()
    assert first.tolist() == again.tolist() and first.tolist() != other.tolist()
    assert first.max() > 40_000, "a sample of the whole range, not its first rows"


def _large_table(rows: int) -> pa.Table:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(rows, 3))
    return pa.table(
        {
            "row": np.arange(rows, dtype=np.float64),  # identifies the row in the validation table
            "a": x[:, 0],
            "b": x[:, 1],
            "target": (x[:, 0] + x[:, 1] > 0).astype(np.int64),
        }
    )


def test_holdout_validation_is_capped_sampled_from_the_test_rows_and_reproducible() -> None:
    table = _large_table(13_000)
    spec = parse_spec(
        {
            "dataset": "d",
            "target": "target",
            "task": "classification",
            "estimator": "sklearn.linear_model.LogisticRegression",
            "split": {"test_size": 0.85, "seed": 9},
        }
    )

    first = fit(spec, table)
    second = fit(spec, table)

    assert first.validation.num_rows == VALIDATION_ROWS == 10_000
    assert first.validation_split == "holdout"
    assert first.validation.column_names == ["row", "a", "b", "target"]
    ordered = table.take(content_order(table, table.column_names, None))
    target = ordered.column("target").to_numpy()
    _, test = holdout_split(target, spec.split, np.unique(target))
    position = {int(row): i for i, row in enumerate(ordered.column("row").to_numpy())}
    held = [position[int(row)] for row in first.validation.column("row").to_numpy()]
    assert np.isin(held, test).all() and np.all(np.diff(held) > 0)
    assert first.digest == second.digest and first.metrics == second.metrics
    assert validation_parquet(first.validation) == validation_parquet(second.validation)


def test_validation_parquet_is_plain_readable_parquet(mixed_table: pa.Table) -> None:
    spec = parse_spec(
        {
            "dataset": "d",
            "target": "label",
            "task": "classification",
            "estimator": "sklearn.linear_model.LogisticRegression",
            "split": {"kind": "kfold", "folds": 3},
        }
    )
    result = fit(spec, mixed_table)

    data = validation_parquet(result.validation)
    read = pq.read_table(io.BytesIO(data))

    assert result.validation_split == "kfold" and read.num_rows == mixed_table.num_rows
    assert read.column_names == ["colour", "size", "count", "flag", "label"]
    assert read.schema.field("colour").type == pa.string(), "dictionaries are decoded"
    assert read.schema.metadata is None
    assert read.column("colour").null_count == mixed_table.column("colour").null_count


def _artifacts(platform: Platform, run_id: str) -> dict[str, bytes]:
    with platform.db.session() as session:
        rows = session.execute(
            sa.select(t.RunArtifact.path, t.RunArtifact.digest).where(
                t.RunArtifact.run_id == run_id
            )
        )
        digests = {path: digest for path, digest in rows}
    return {path: platform.blobs.get_bytes(digest) for path, digest in digests.items()}


def test_worker_stores_the_validation_rows_it_scored_beside_the_model(
    platform: Platform, tmp_path: Path
) -> None:
    with Client(settings=platform.settings) as client:
        dataset = ingest_breast_cancer(client, tmp_path)
        logs: list[str] = []
        job = client.training.train(lightgbm_spec(dataset), on_log=logs.append, timeout=180)
        again = client.training.train(lightgbm_spec(dataset), timeout=180)
    assert job.run_id and again.run_id
    stored = _artifacts(platform, job.run_id)

    assert {MODEL_ARTIFACT, MODEL_META, VALIDATION_ARTIFACT} <= set(stored)
    validation = pq.read_table(io.BytesIO(stored[VALIDATION_ARTIFACT]))
    assert validation.num_rows == 143  # 25% of 569 rows held out by lightgbm_spec's split
    meta: dict[str, Any] = orjson.loads(stored[MODEL_META])
    signature = meta["signature"]
    inputs = [c["name"] for c in signature["inputs"]]
    assert validation.column_names == [*inputs, "diagnosis"]
    with platform.db.session() as session:
        artifact = session.get(t.RunArtifact, (job.run_id, VALIDATION_ARTIFACT))
        accuracy = session.scalar(
            sa.select(t.RunMetric.value).where(
                t.RunMetric.run_id == job.run_id, t.RunMetric.key == "accuracy"
            )
        )
        assert artifact is not None and accuracy is not None
    assert meta["validation"] == {
        "path": VALIDATION_ARTIFACT,
        "digest": artifact.digest,
        "rows": 143,
        "split": "holdout",
    }
    assert any("validation table: 143 holdout rows" in line for line in logs)

    # They are the rows the run's metrics were computed on: the stored model scores them
    # to exactly the recorded accuracy.
    model = load_predictor(
        meta["flavor"],
        stored[MODEL_ARTIFACT],
        ModelSignature.model_validate(signature),
        expected_digest=meta["digest"],
    )
    labels = model.predict(validation.select(inputs).to_pandas()).predictions
    truth = validation.column("diagnosis").to_numpy(zero_copy_only=False)
    assert float(np.mean(labels == truth)) == pytest.approx(accuracy, abs=1e-12)

    # Same spec, seed and data: the same model and the same validation bytes.
    repeat = _artifacts(platform, again.run_id)
    assert repeat[MODEL_ARTIFACT] == stored[MODEL_ARTIFACT]
    assert repeat[VALIDATION_ARTIFACT] == stored[VALIDATION_ARTIFACT]
