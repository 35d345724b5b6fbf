"""Which rows edge export checks parity on: the run's validation rows, a named dataset, a sample."""

from __future__ import annotations

import json
from typing import Any

import lightgbm
import numpy as np
import pandas as pd
import pytest
from edgekit import ingest_frame, numeric_frame, parquet_bytes, register_fitted, signature_of

from shipyard.client import Client
from shipyard.datasets import DatasetVersionInfo
from shipyard.edge import VALIDATION_ARTIFACT, export_model, get_package, list_exports, read_archive
from shipyard.errors import InvalidInput, NotFound
from shipyard.platform import Platform
from shipyard.security import context_for
from shipyard.store.metadata import export_tables as x
from shipyard.store.metadata import tables as t

FEATURES = [f"f{i}" for i in range(5)]

JOBS: dict[str, dict[str, Any]] = {
    "xgboost": {"estimator": "xgboost.XGBClassifier", "params": {"n_estimators": 20}},
    "sklearn": {
        "estimator": "sklearn.pipeline",
        "params": {
            "steps": [
                {"estimator": "sklearn.preprocessing.StandardScaler"},
                {"estimator": "sklearn.linear_model.LogisticRegression"},
            ]
        },
    },
    # a string column: the job one-hot encodes it, the validation table keeps the strings
    "sklearn-strings": {"estimator": "sklearn.linear_model.LogisticRegression"},
}


def _train_and_register(platform: Platform, dataset: str, fields: dict[str, Any]) -> str:
    spec = {
        "dataset": dataset,
        "target": "y",
        "task": "classification",
        "split": {"kind": "holdout", "test_size": 0.2, "seed": 3},
        "experiment": "edge",
        **fields,
    }
    with Client(settings=platform.settings) as client:
        job = client.training.train(spec, timeout=180)
        assert job.run_id is not None
        client.models.register("trained", job.run_id)
        return job.run_id


@pytest.mark.parametrize("job", list(JOBS))
def test_trained_models_are_checked_on_the_rows_they_were_validated_on(
    sqlite_platform: Platform, frame: pd.DataFrame, job: str
) -> None:
    if job == "sklearn-strings":
        frame = frame.assign(colour=np.where(frame["f3"] > 0, "red", "blue"))
    dataset = ingest_frame(sqlite_platform, "numbers", frame)
    run_id = _train_and_register(sqlite_platform, f"numbers@{dataset.version}", JOBS[job])
    ctx = context_for(sqlite_platform, "admin")

    info = export_model(ctx, "trained@1")

    with sqlite_platform.db.session() as session:
        artifact = session.get(t.RunArtifact, (run_id, VALIDATION_ARTIFACT))
        assert artifact is not None
    parity = info.parity
    assert parity["data"] == "validation" and parity["rows"] == 300  # 20% of 1,500 rows
    assert parity["data_digest"] == artifact.digest
    assert parity["source"] == f"the holdout validation rows of run {run_id}"
    assert parity["tolerance"] == 1e-4 and parity["max_abs_diff"] <= 1e-4
    exported = parity["exported"]
    assert exported["data"] == "validation" and exported["rows"] == 300
    assert exported["labels_agree"] == 1.0
    manifest = json.loads(read_archive(get_package(ctx, info.id))["manifest.json"])
    assert manifest["parity"]["data"] == "validation" and manifest["parity"]["rows"] == 300

    if job == "xgboost":  # single precision: a tolerance below float32 rounding must fail
        with pytest.raises(InvalidInput) as caught:
            export_model(ctx, "trained@1", tolerance=1e-12)
        message = str(caught.value)
        assert caught.value.field == "tolerance"
        assert (
            "on 300 rows of validation data" in message and "beyond the tolerance 1e-12" in message
        )
        assert [e.id for e in list_exports(ctx, "trained@1")] == [info.id]


def _lightgbm(frame: pd.DataFrame) -> lightgbm.LGBMClassifier:
    model = lightgbm.LGBMClassifier(n_estimators=20, num_leaves=7, verbose=-1)
    return model.fit(frame[FEATURES].to_numpy(), frame["y"])


def test_a_named_dataset_version_is_checked_on_a_bounded_seeded_sample(
    sqlite_platform: Platform, dataset: DatasetVersionInfo, frame: pd.DataFrame
) -> None:
    ctx = context_for(sqlite_platform, "admin")
    register_fitted(
        sqlite_platform, "m", _lightgbm(frame), signature_of(frame, "y", [0, 1]), dataset
    )
    fresh = ingest_frame(sqlite_platform, "fresh", numeric_frame(12_000, 5, seed=1))

    first = export_model(ctx, "m@1", parity_data="fresh@1")
    second = export_model(ctx, "m@1", parity_data="fresh")  # no version: the latest

    for info in (first, second):
        assert info.parity["data"] == "dataset" and info.parity["source"] == "dataset fresh@1"
        assert info.parity["rows"] == 10_000 and info.parity["data_digest"] == fresh.digest
    assert first.parity["exported"] == second.parity["exported"], "the same sample each time"

    with pytest.raises(NotFound):
        export_model(ctx, "m@1", parity_data="absent@1")
    with pytest.raises(InvalidInput) as alias:
        export_model(ctx, "m@1", parity_data="fresh@latest")
    assert alias.value.field == "parity_data"
    assert len(list_exports(ctx, "m@1")) == 2


def test_parity_data_that_does_not_fit_the_signature_is_refused_naming_columns(
    sqlite_platform: Platform, dataset: DatasetVersionInfo, frame: pd.DataFrame
) -> None:
    ctx = context_for(sqlite_platform, "admin")
    register_fitted(
        sqlite_platform, "m", _lightgbm(frame), signature_of(frame, "y", [0, 1]), dataset
    )
    wrong = frame.drop(columns="f4").assign(f3=np.where(frame["f3"] > 0, "hi", "lo"))
    ingest_frame(sqlite_platform, "wrong", wrong)

    with pytest.raises(InvalidInput) as caught:
        export_model(ctx, "m@1", parity_data="wrong@1")

    message = str(caught.value)
    assert caught.value.field == "parity_data"
    assert "dataset wrong@1 do not match the model's signature" in message
    assert "missing input columns ['f4']" in message
    assert "f3 (model expects float, data has string)" in message
    assert "the data has ['f0', 'f1', 'f2', 'f3', 'y']" in message
    with sqlite_platform.db.session() as session:
        assert session.query(x.ModelExport).count() == 0


def test_versions_without_stored_validation_fall_back_or_ask_for_data(
    sqlite_platform: Platform, dataset: DatasetVersionInfo, frame: pd.DataFrame
) -> None:
    ctx = context_for(sqlite_platform, "admin")
    signature = signature_of(frame, "y", [0, 1])
    register_fitted(sqlite_platform, "sampled", _lightgbm(frame), signature, dataset)
    register_fitted(sqlite_platform, "orphan", _lightgbm(frame), signature, None)

    sampled = export_model(ctx, "sampled@1")
    assert sampled.parity["data"] == "training-sample" and sampled.parity["rows"] == 1500
    assert sampled.parity["source"] == "a sample of training dataset numbers@1"

    with pytest.raises(InvalidInput, match="--parity-data") as missing:
        export_model(ctx, "orphan@1")
    assert missing.value.field == "parity_data"
    named = export_model(ctx, "orphan@1", parity_data="numbers@1")
    assert named.parity["data"] == "dataset"


def test_a_users_own_validation_table_is_used_and_checked(
    sqlite_platform: Platform, dataset: DatasetVersionInfo, frame: pd.DataFrame
) -> None:
    ctx = context_for(sqlite_platform, "admin")
    signature = signature_of(frame, "y", [0, 1])
    own = parquet_bytes(frame.tail(123))
    register_fitted(
        sqlite_platform, "own", _lightgbm(frame), signature, dataset, {VALIDATION_ARTIFACT: own}
    )
    info = export_model(ctx, "own@1")
    assert info.parity["data"] == "validation" and info.parity["rows"] == 123
    assert info.parity["source"].startswith("the validation rows of run ")  # split unknown

    narrow = parquet_bytes(frame[["f0", "f1"]])
    register_fitted(
        sqlite_platform,
        "narrow",
        _lightgbm(frame),
        signature,
        dataset,
        {VALIDATION_ARTIFACT: narrow},
    )
    with pytest.raises(InvalidInput, match=r"missing input columns \['f2', 'f3', 'f4'\]"):
        export_model(ctx, "narrow@1")

    register_fitted(
        sqlite_platform, "junk", _lightgbm(frame), signature, dataset, {VALIDATION_ARTIFACT: b"x"}
    )
    with pytest.raises(InvalidInput, match="not readable Parquet") as junk:
        export_model(ctx, "junk@1")
    assert junk.value.field == "parity_data"
