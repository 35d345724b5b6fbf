"""Tuning searches on one platform: conditional parameters, grid, warm start, pruning,
several objectives, bad specs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.tuning.conftest import lgbm_spec

from shipyard.client import Client
from shipyard.errors import InvalidInput, NotFound


def test_conditional_parameters_appear_only_when_their_condition_holds(tuner: Client) -> None:
    space = {
        "boosting_type": {"type": "categorical", "choices": ["gbdt", "goss"]},
        "subsample": {"type": "float", "low": 0.5, "high": 1.0, "when": {"boosting_type": "gbdt"}},
        "n_estimators": {"type": "int", "low": 5, "high": 20},
    }
    job = tuner.tuning.tune(lgbm_spec(search_space=space, max_trials=6, strategy="random"))
    trials = tuner.tuning.trials(job.id)
    assert len(trials) == 6 and all(t.state == "complete" for t in trials)
    assert {t.params["boosting_type"] for t in trials} == {"gbdt", "goss"}
    for t in trials:
        assert ("subsample" in t.params) == (t.params["boosting_type"] == "gbdt")
    run = tuner.tracking.get_run(trials[0].run_id or "")
    assert run.parent_run_id == job.run_id


def test_grid_enumerates_then_warm_start_adds_its_trials_and_tpe_improves(tuner: Client) -> None:
    grid = lgbm_spec(
        strategy="grid",
        max_trials=50,
        search_space={
            "learning_rate": {"type": "categorical", "choices": [0.0001, 0.0003]},
            "num_leaves": {"type": "int", "low": 2, "high": 3},
        },
    )
    bad = tuner.tuning.tune(grid)
    grid_trials = tuner.tuning.trials(bad.id)
    points = sorted((t.params["learning_rate"], t.params["num_leaves"]) for t in grid_trials)
    assert points == [(0.0001, 2), (0.0001, 3), (0.0003, 2), (0.0003, 3)]
    worst_start = tuner.tuning.best(bad.id).trials[0].values or [0.0]

    search = {
        "learning_rate": {"type": "float", "low": 0.0001, "high": 0.5, "log": True},
        "num_leaves": {"type": "int", "low": 2, "high": 31},
        "n_estimators": {"type": "int", "low": 10, "high": 40},
    }
    better = tuner.tuning.tune(
        lgbm_spec(search_space=search, warm_start=[bad.id], max_trials=5, strategy="bayesian")
    )
    trials = tuner.tuning.trials(better.id)
    copied = [t for t in trials if t.warm_start_from == bad.id]
    assert len(copied) == 4  # the grid's finished trials joined the study as known results
    own = [t for t in trials if t.warm_start_from is None]
    assert len(own) == 5
    best = tuner.tuning.best(better.id).trials[0]
    assert best.warm_start_from is None and (best.values or [0.0])[0] > worst_start[0]


@pytest.mark.parametrize("pruner", ["median", "hyperband"])
def test_pruners_stop_trials_and_record_why(tuner: Client, pruner: str) -> None:
    space = {
        "n_estimators": {"type": "int", "low": 20, "high": 40},
        "learning_rate": {"type": "float", "low": 0.0005, "high": 0.5, "log": True},
    }
    # Hyperband puts each trial in a bracket by a hash of the study's name, which holds the
    # random job id; with too few trials a bracket may hold one, which is never pruned
    trials_run = 8 if pruner == "median" else 16
    job = tuner.tuning.tune(
        lgbm_spec(
            search_space=space, pruner=pruner, strategy="random", max_trials=trials_run, seed=3
        )
    )
    trials = tuner.tuning.trials(job.id)
    pruned = [t for t in trials if t.state == "pruned"]
    assert pruned, [(t.state, t.values) for t in trials]
    for t in pruned:
        assert t.reason and t.reason.startswith("pruned at step") and pruner in t.reason
        run = tuner.tracking.get_run(t.run_id or "")
        assert run.status == "killed" and run.tags["shipyard.trial.state"] == "pruned"
    complete = [t for t in trials if t.state == "complete"]
    assert complete and all(len(t.intermediate) > 5 for t in complete)
    saved = tuner.tuning.best(job.id).pruning
    assert saved is not None and saved.pruned_trials == len(pruned)
    assert saved.rounds_saved > 0 and saved.cpu_seconds_saved > 0 and 0 < saved.share_saved < 1


def test_cmaes_searches_a_numeric_space(tuner: Client) -> None:
    job = tuner.tuning.tune(lgbm_spec(strategy="cmaes", max_trials=5))
    trials = tuner.tuning.trials(job.id)
    assert [t.state for t in trials] == ["complete"] * 5
    assert len({t.params["learning_rate"] for t in trials}) == 5


def test_several_objectives_give_a_pareto_front(tuner: Client) -> None:
    spec = lgbm_spec(
        objective=None,
        objectives=[
            {"metric": "roc_auc", "direction": "maximize"},
            {"metric": "log_loss", "direction": "minimize"},
        ],
        max_trials=6,
        strategy="random",
    )
    job = tuner.tuning.tune(spec)
    front = tuner.tuning.best(job.id).trials
    done = [t for t in tuner.tuning.trials(job.id) if t.state == "complete"]
    assert front
    for member in front:
        auc, loss = member.values or [0.0, 0.0]
        assert not any(
            (t.values or [0, 0])[0] >= auc
            and (t.values or [0, 0])[1] <= loss
            and (t.values or [0, 0]) != [auc, loss]
            for t in done
        )
    assert "Pareto front" in (tuner.tuning.get(job.id).message)


BAD: list[tuple[dict[str, Any], str]] = [
    (
        {"search_space": {"learning_rate": {"type": "float", "low": 0.3, "high": 0.1}}},
        "search_space.learning_rate.low",
    ),
    (
        {"search_space": {"n_estimatorz": {"type": "int", "low": 1, "high": 3}}},
        "search_space.n_estimatorz",
    ),
    (
        {
            "strategy": "grid",
            "search_space": {"learning_rate": {"type": "float", "low": 0.1, "high": 0.3}},
        },
        "search_space.learning_rate.step",
    ),
    (
        {
            "strategy": "cmaes",
            "search_space": {"boosting_type": {"type": "categorical", "choices": ["gbdt"]}},
        },
        "search_space.boosting_type.type",
    ),
    (
        {
            "objective": None,
            "objectives": [{"metric": "roc_auc"}, {"metric": "log_loss", "direction": "minimize"}],
            "pruner": "median",
        },
        "pruner",
    ),
    ({"objective": {"metric": "rmse"}}, "objective.metric"),
    (
        {"search_space": {"x": {"type": "float", "low": 0, "high": 1, "when": {"y": "a"}}}},
        "search_space.x.when",
    ),
    ({"max_parallel": 9}, "max_parallel"),
    ({"timeout": "soon"}, "timeout"),
    ({"warm_start": ["0" * 32]}, "warm_start.0"),
]


@pytest.mark.parametrize(("change", "field"), BAD, ids=[f for _, f in BAD])
def test_bad_specs_are_refused_naming_the_field(
    tuner: Client, change: dict[str, Any], field: str
) -> None:
    before = len(tuner.tuning.list())
    with pytest.raises((InvalidInput, NotFound)) as caught:
        tuner.tuning.start(lgbm_spec(**change))
    assert caught.value.field == field, str(caught.value)
    assert len(tuner.tuning.list()) == before


def test_hyperband_needs_an_estimator_with_rounds(tuner: Client) -> None:
    spec = lgbm_spec(
        pruner="hyperband",
        search_space={"C": {"type": "float", "low": 0.1, "high": 10, "log": True}},
    )
    spec["training"] = {
        **spec["training"],
        "estimator": "sklearn.linear_model.LogisticRegression",
        "params": {},
    }
    with pytest.raises(InvalidInput, match="reports none") as caught:
        tuner.tuning.start(spec)
    assert caught.value.field == "pruner"


TRAIN_CODE = """
def main(context):
    x = float(context.params["x"])
    assert context.frame().shape[0] == 300
    for step in range(1, 8):
        context.report(-((x - 2.0) ** 2) * step / 7, step)
        if context.should_prune():
            return
    context.run.log_metric("score", -((x - 2.0) ** 2))
"""


def test_own_code_gets_params_reports_and_is_pruned(tuner: Client, tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(TRAIN_CODE)
    spec = {
        "training": {"entrypoint": "train.py:main", "dataset": "cancer@1"},
        "objective": {"metric": "score", "direction": "maximize"},
        "pruner": "median",
        "strategy": "random",
        "seed": 1,
        "max_trials": 8,
        "search_space": {"x": {"type": "float", "low": -10, "high": 10}},
    }
    (tmp_path / "tune.yaml").write_text(yaml.safe_dump(spec))
    job = tuner.tuning.tune(tmp_path / "tune.yaml")
    trials = tuner.tuning.trials(job.id)
    complete = [t for t in trials if t.state == "complete"]
    assert complete and all(t.values == [-((t.params["x"] - 2) ** 2)] for t in complete)
    pruned = [t for t in trials if t.state == "pruned"]
    assert pruned and all((t.reason or "").startswith("pruned at step") for t in pruned)
    best = tuner.tuning.best(job.id).trials[0]
    assert best.values == [max((t.values or [0.0])[0] for t in complete)]
