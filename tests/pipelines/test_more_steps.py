"""The job-starting and registry steps each run once, small: tune, AutoML, batch transform,
approve, and point-in-time feature retrieval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.features.conftest import write_feature_data
from tests.pipelines.conftest import wait_run

from shipyard import datasets, features, pipelines, registry
from shipyard.errors import InvalidInput
from shipyard.pipelines import PipelineRunInfo
from shipyard.security import RequestContext
from shipyard.store.metadata import tables as t

TRAINING = {
    "dataset": "bc@1",
    "target": "diagnosis",
    "task": "classification",
    "estimator": "lightgbm.LGBMClassifier",
    "params": {"n_estimators": 10, "num_leaves": 7},
    "experiment": "pipelines",
}


def _run(admin: RequestContext, name: str, steps: list[dict[str, Any]]) -> PipelineRunInfo:
    pipelines.create_pipeline(admin, {"name": name, "steps": steps})
    done = wait_run(admin, pipelines.start_pipeline_run(admin, name).id)
    assert done.status == "succeeded", done.message
    return done


def _registered(model: str) -> list[dict[str, Any]]:
    """Train on bc@1 and register the run as the next version of ``model``."""
    return [
        {"name": "train", "kind": "train", "with": TRAINING},
        {
            "name": "register",
            "kind": "register",
            "with": {"model": model, "run": "${steps.train.run}"},
        },
    ]


def _run_exists(admin: RequestContext, run_id: str) -> bool:
    with admin.platform.db.session() as session:
        return session.get(t.Run, run_id) is not None


@pytest.mark.usefixtures("bc")
def test_tune_gives_the_best_trials_run(admin: RequestContext) -> None:
    spec = {
        "training": TRAINING,
        "objective": {"metric": "roc_auc", "direction": "maximize"},
        "max_trials": 2,
        "seed": 0,
        "search_space": {"n_estimators": {"type": "int", "low": 5, "high": 15}},
    }
    done = _run(admin, "tuner", [{"name": "tune", "kind": "tune", "with": spec}])
    outputs = done.step("tune").outputs
    assert outputs["run"] and _run_exists(admin, outputs["run"])
    assert pipelines.produced_by(admin.platform, "run", outputs["run"])


@pytest.mark.usefixtures("bc")
def test_automl_registers_its_winner(admin: RequestContext) -> None:
    settings = {"dataset": "bc@1", "target": "diagnosis", "budget": "20s", "folds": 2}
    done = _run(
        admin,
        "auto",
        [{"name": "search", "kind": "automl", "with": settings | {"register_to": "bc-auto"}}],
    )
    outputs = done.step("search").outputs
    assert outputs["model_version"] == "bc-auto@1"
    assert registry.get_model_version(admin, "bc-auto@1").version == 1
    assert pipelines.produced_by(admin.platform, "model-version", "bc-auto@1")


@pytest.mark.usefixtures("bc")
def test_approve_sets_the_registered_versions_approval(admin: RequestContext) -> None:
    approve = {"model_version": "${steps.register.model_version}", "status": "Approved"}
    done = _run(
        admin,
        "approver",
        [*_registered("bc-ok"), {"name": "ok", "kind": "approve", "with": approve}],
    )
    assert done.step("ok").outputs == {"model_version": "bc-ok@1", "approval": "Approved"}
    assert registry.get_model_version(admin, "bc-ok@1").approval == "Approved"


@pytest.mark.usefixtures("bc")
def test_batch_scores_a_dataset_into_a_new_version(admin: RequestContext) -> None:
    score = {
        "model": "${steps.register.model_version}",
        "input": "bc@1",
        "output": "bc-scored",
        "keep_columns": ["diagnosis"],
    }
    done = _run(
        admin, "scorer", [*_registered("bc-b"), {"name": "score", "kind": "batch", "with": score}]
    )
    outputs = done.step("score").outputs
    assert outputs["dataset"] == "bc-scored@1"
    info = datasets.get_version(admin, "bc-scored", 1)
    assert info.rows == datasets.get_version(admin, "bc", 1).rows
    assert pipelines.produced_by(admin.platform, "dataset-version", "bc-scored@1")


def test_features_joins_point_in_time_into_a_dataset(admin: RequestContext, tmp_path: Path) -> None:
    paths = write_feature_data(tmp_path / "data")
    for name in ("drivers", "trips"):
        datasets.ingest(admin, name, paths[name].read_bytes(), f"{name}.parquet")
    view = {
        "source": "drivers",
        "entities": ["driver_id"],
        "event_time": "ts",
        "features": ["rate", "trips"],
        "ttl": "1d",
    }
    features.apply_view(admin, "driver_stats", view)
    retrieve = {"output": "trips-train", "features": ["driver_stats"], "entities": "trips@1"}
    done = _run(admin, "fetch", [{"name": "join", "kind": "features", "with": retrieve}])
    assert done.step("join").outputs == {"dataset": "trips-train@1", "rows": 5}
    with admin.platform.db.session() as session:
        columns = session.scalar(
            sa.select(t.DatasetVersion.schema)
            .join(t.Dataset, t.Dataset.id == t.DatasetVersion.dataset_id)
            .where(t.Dataset.name == "trips-train")
        )
    names = {c["name"] for c in columns or []}
    assert {"driver_stats__rate", "driver_stats__trips", "label"} <= names


def test_a_step_missing_a_setting_its_access_needs_is_refused_naming_it(
    admin: RequestContext,
) -> None:
    steps = [{"name": "search", "kind": "automl", "with": {"target": "diagnosis"}}]
    with pytest.raises(InvalidInput) as raised:
        pipelines.create_pipeline(admin, {"name": "broken", "steps": steps})
    assert raised.value.field == "steps.search.with.dataset"
    assert pipelines.list_pipelines(admin).items == []
