"""Continuing a registered LightGBM or XGBoost version on new data (``init_model``): the
new booster holds the parent's trees, mismatched columns are refused naming the key, and
the parent shows in the run, the new version and the lineage graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm
import pyarrow as pa
import pytest
import sqlalchemy as sa
import xgboost
from tests.fixtures.lifecycle import ingest_breast_cancer, lightgbm_spec

from shipyard import errors
from shipyard.client import Client
from shipyard.flavors import artifact_digest, save_model
from shipyard.platform import Platform
from shipyard.store.metadata import tables as t
from shipyard.training import fit, parse_spec
from shipyard.training._warm_start import load_parent


def _spec(estimator: str, **fields: Any) -> dict[str, Any]:
    return {
        "dataset": "mixed@1",
        "target": "label",
        "task": "classification",
        "estimator": estimator,
        "params": {"n_estimators": 5},
        "split": {"seed": 3},
        **fields,
    }


def _trees(model: Any) -> int:
    if isinstance(model, lightgbm.LGBMModel):
        return int(model.booster_.num_trees())
    booster: xgboost.Booster = model.get_booster()
    return int(booster.num_boosted_rounds())


@pytest.mark.parametrize("estimator", ["lightgbm.LGBMClassifier", "xgboost.XGBClassifier"])
def test_training_continues_from_the_parents_trees(mixed_table: pa.Table, estimator: str) -> None:
    first = fit(parse_spec(_spec(estimator)), mixed_table)
    parent = load_parent(
        "mixed-model@1", first.flavor, first.model_bytes, first.signature, first.digest
    )
    newer = mixed_table.slice(100)
    second = fit(parse_spec(_spec(estimator, init_model="mixed-model@1")), newer, parent=parent)
    assert _trees(first.estimator) == 5
    assert _trees(second.estimator) == 10  # the parent's 5 rounds, then 5 more
    flavor, data = save_model(second.estimator)
    assert artifact_digest(data) == second.digest and flavor == first.flavor


def test_columns_that_differ_from_the_parents_are_refused(mixed_table: pa.Table) -> None:
    first = fit(parse_spec(_spec("lightgbm.LGBMClassifier")), mixed_table)
    parent = load_parent("m@1", first.flavor, first.model_bytes, first.signature, first.digest)
    spec = parse_spec(_spec("lightgbm.LGBMClassifier", init_model="m@1"))
    with pytest.raises(errors.InvalidInput) as caught:
        fit(spec, mixed_table.drop_columns(["flag"]), parent=parent)
    assert caught.value.field == "init_model"
    assert "flag (boolean)" in caught.value.message
    xgb = parse_spec(_spec("xgboost.XGBClassifier", init_model="m@1"))
    with pytest.raises(errors.InvalidInput, match="lightgbm model") as caught:
        fit(xgb, mixed_table, parent=parent)
    assert caught.value.field == "init_model"


def test_only_boosting_estimators_take_an_init_model() -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        parse_spec(_spec("sklearn.linear_model.LogisticRegression", params={}, init_model="m@1"))
    assert caught.value.field == "init_model"


def test_a_continued_version_records_its_parent(sdk: Client, tmp_path: Path) -> None:
    dataset = ingest_breast_cancer(sdk, tmp_path)
    first = sdk.training.train(lightgbm_spec(dataset), timeout=120)
    assert first.run_id is not None
    sdk.models.register("bc-model", first.run_id)
    sdk.models.set_alias("bc-model", "champion", 1)

    job = sdk.training.train(lightgbm_spec(dataset, init_model="bc-model@champion"), timeout=120)
    assert job.status == "succeeded", job
    assert job.spec["init_model"] == "bc-model@1"  # the alias, resolved when the job began
    assert job.run_id is not None
    run = sdk.tracking.get_run(job.run_id)
    assert run.input_models == ["bc-model@1"]
    assert run.params["init_model"] == "bc-model@1"
    assert sdk.tracking.get_run(first.run_id).input_models == []

    child = sdk.models.register("bc-model", job.run_id)
    assert child.version == 2 and child.parents == ["bc-model@1"]
    assert sdk.models.version("bc-model@1").parents == []
    graph = sdk.models.lineage("bc-model@2")
    assert ("model:bc-model@1", f"run:{job.run_id}") in graph.edges
    assert (f"run:{job.run_id}", "model:bc-model@2") in graph.edges
    assert (f"dataset:{dataset}", f"run:{job.run_id}") in graph.edges


def test_a_job_whose_parent_does_not_fit_is_refused_before_it_starts(
    sdk: Client, tmp_path: Path
) -> None:
    dataset = ingest_breast_cancer(sdk, tmp_path)
    first = sdk.training.train(lightgbm_spec(dataset), timeout=120)
    assert first.run_id is not None
    sdk.models.register("bc-model", first.run_id)
    before = len(sdk.training.list())
    fewer = lightgbm_spec(dataset, init_model="bc-model@1", features=["mean_radius"])
    with pytest.raises(errors.InvalidInput, match="feature columns") as caught:
        sdk.training.submit(fewer)
    assert caught.value.field == "init_model"
    xgb = lightgbm_spec(
        dataset, init_model="bc-model@1", estimator="xgboost.XGBClassifier", params={}
    )
    with pytest.raises(errors.InvalidInput, match="lightgbm model") as caught:
        sdk.training.submit(xgb)
    assert caught.value.field == "init_model"
    with pytest.raises(errors.NotFound) as missing:
        sdk.training.submit(lightgbm_spec(dataset, init_model="bc-model@7"))
    assert missing.value.field == "init_model"
    assert len(sdk.training.list()) == before


def test_migration_0119_downgrades_and_upgrades(platform: Platform) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(t.__file__).parent / "migrations"))
    with platform.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0119_run_model_inputs-1")
    with platform.db.engine.connect() as connection:
        assert "run_model_inputs" not in sa.inspect(connection).get_table_names()
    with platform.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
    with platform.db.engine.connect() as connection:
        assert "run_model_inputs" in sa.inspect(connection).get_table_names()
