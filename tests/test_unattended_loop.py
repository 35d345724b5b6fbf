"""The whole operations loop, unattended: traffic drifts -> the monitor flags it -> the alarm
fires -> two retraining pipelines start -> each trains and is evaluated against the
champion -> the better challenger is registered and rolled out as a canary -> the endpoint
serves it; the worse challenger (trained on mislabelled data) stops at the gate.

Nothing is called by hand after the traffic starts: the scheduler (as ``shipyard server``
runs it) runs the monitor's windows and the alarm's evaluations; the alarm's actions start
the pipeline runs as the alarm's creator; the deploy step's rollout is judged on the live
endpoint's own statistics.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import lightgbm
import numpy as np
import pandas as pd
import pytest
from tests.endpoints.dataplanekit import serving
from tests.monitoring.monitorkit import register_estimator

from shipyard import alarms, datasets, deploy, endpoints, monitoring, pipelines, registry
from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.scheduling import Scheduler
from shipyard.security import ADMIN, RequestContext, bootstrap, context_for
from shipyard.serving import ServingSettings

FEATURES = ["x0", "x1", "x2"]

PIPELINE = {
    "name": "retrain",
    "parameters": {"data": "fresh@1"},
    "steps": [
        {
            "name": "train",
            "kind": "train",
            "with": {
                "dataset": "${params.data}",
                "target": "label",
                "task": "classification",
                "estimator": "lightgbm.LGBMClassifier",
                "params": {"n_estimators": 30, "num_leaves": 7},
                "experiment": "retrain",
            },
        },
        {
            "name": "evaluate",
            "kind": "evaluate",
            "with": {
                "candidate": "${steps.train.run}",
                "data": "holdout@1",
                "champion": "churn@champion",
                "thresholds": {
                    "accuracy": {
                        "threshold": 0.6,
                        "min_absolute_change": 0.05,
                        "greater_is_better": True,
                    }
                },
            },
        },
        {
            "name": "gate",
            "kind": "condition",
            "with": {"if": "${steps.evaluate.passed}", "then": ["register", "deploy"]},
        },
        {
            "name": "register",
            "kind": "register",
            "with": {"model": "churn", "run": "${steps.train.run}", "alias": "champion"},
        },
        {
            "name": "deploy",
            "kind": "deploy",
            "with": {
                "endpoint": "churn-ep",
                "model": "${steps.register.model_version}",
                "strategy": "canary",
                "bake": "3s",
                "rollback_on": "error_rate>5%",
            },
        },
    ],
}


def _frame(rows: int, seed: int, *, drifted: bool, flip: bool = False) -> pd.DataFrame:
    """Before the drift the label follows x0; after it, x1 and x2 have moved and the label
    follows x2 (what the champion learned no longer holds). ``flip``: mislabelled."""
    rng = np.random.default_rng(seed)
    x0, x1, x2 = rng.normal(size=rows), rng.normal(size=rows), rng.normal(size=rows)
    noise = 0.3 * rng.normal(size=rows)
    if drifted:
        x1, x2 = x1 + 2.0, x2 + 3.0
        label = (x2 - 3.0 + noise > 0).astype(int)
    else:
        label = (x0 + noise > 0).astype(int)
    if flip:
        label = 1 - label
    return pd.DataFrame({"x0": x0, "x1": x1, "x2": x2, "label": label})


def _ingest(ctx: RequestContext, name: str, data: pd.DataFrame) -> None:
    sink = io.BytesIO()
    data.to_parquet(sink, index=False)
    datasets.ingest(ctx, name, sink.getvalue(), filename=f"{name}.parquet")


class _Traffic:
    """Batches of rows from the current phase's data, from one thread, until stopped."""

    def __init__(self, url: str, token: str) -> None:
        self.data = _frame(20_000, 5, drifted=False)
        self.versions: list[str] = []
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drive, args=(url, token), daemon=True)

    def __enter__(self) -> _Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _drive(self, url: str, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            for i in range(1_000_000):
                if self._stop.wait(0.02):
                    return
                rows = self.data.iloc[(i * 20) % 19_980 :][FEATURES].head(20)
                response = http.post("/invocations", json={"dataframe_split": _split(rows)})
                if response.status_code == 200:
                    self.versions.append(response.headers["x-shipyard-model-version"])
                else:
                    self.errors += 1


def _split(rows: pd.DataFrame) -> dict[str, Any]:
    return {"columns": list(rows.columns), "data": rows.to_numpy().tolist()}


def _wait(condition: Callable[[], object], what: str, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not reached in {timeout:g} s: {what}"
        time.sleep(0.2)


@pytest.fixture
def loop_platform(tmp_path: Path) -> Iterator[Platform]:
    opened = Platform.open(Settings(home=tmp_path / "home", key_cache_seconds=0.2))
    bootstrap(opened)
    yield opened
    opened.close()


def test_drift_alarm_retrains_gates_and_redeploys_unattended(loop_platform: Platform) -> None:
    platform = loop_platform
    admin = context_for(platform, ADMIN)
    train = _frame(3000, 1, drifted=False)
    _ingest(admin, "train", train)
    _ingest(admin, "fresh", _frame(3000, 2, drifted=True))
    _ingest(admin, "fresh-mislabelled", _frame(3000, 2, drifted=True, flip=True))
    _ingest(admin, "holdout", _frame(2000, 3, drifted=True))
    champion = lightgbm.LGBMClassifier(n_estimators=30, num_leaves=7, verbose=-1, n_jobs=1)
    champion.fit(train[FEATURES], train["label"])
    with platform.db.session() as session:
        from shipyard.datasets import find_version

        train_version = find_version(session, "train", 1).id
    assert register_estimator(platform, champion, train_version, "churn") == 1
    registry.set_alias(admin, "churn", "champion", 1)
    endpoints.create_endpoint(
        admin,
        "churn-ep",
        "churn@1",
        capture=endpoints.CaptureConfig(enabled=True, sampling_percent=100, mode="both"),
    )
    pipelines.create_pipeline(admin, PIPELINE)
    monitoring.create_monitor(admin, "churn-mon", endpoint="churn-ep", schedule="10s")
    alarms.put_alarm(
        admin,
        "churn-drift",
        source="monitor:churn-mon",
        metric="drift_share",
        comparison=">=",
        threshold=0.5,
        period="10s",
        actions=[
            alarms.PipelineAction(pipeline="retrain", parameters={"data": "fresh@1"}),
            alarms.PipelineAction(pipeline="retrain", parameters={"data": "fresh-mislabelled@1"}),
        ],
    )

    settings = ServingSettings(poll_seconds=0.1, report_seconds=0.5, capture_flush_rows=20)
    scheduler = Scheduler(platform, poll_seconds=0.2)
    with serving(platform, "churn-ep", settings) as served:
        scheduler.start()
        try:
            with _Traffic(served.url, served.token) as traffic:
                # the stable traffic: the monitor sees no drift and the alarm stays OK
                _wait(
                    lambda: alarms.get_alarm(admin, "churn-drift").state == "OK",
                    "the alarm judged a stable window OK",
                )
                assert pipelines.list_pipeline_runs(admin, "retrain").items == []
                traffic.data = _frame(20_000, 6, drifted=True)

                _wait(
                    lambda: (
                        len(pipelines.list_pipeline_runs(admin, "retrain").items) == 2
                        and all(
                            r.done for r in pipelines.list_pipeline_runs(admin, "retrain").items
                        )
                    ),
                    "both retraining runs ended",
                )
                _wait(
                    lambda: traffic.versions[-20:] == ["2"] * 20,
                    "the endpoint serves the new version",
                    timeout=60,
                )
                assert traffic.errors == 0
        finally:
            scheduler.stop()

    runs = {r.parameters["data"]: r for r in pipelines.list_pipeline_runs(admin, "retrain").items}
    good, bad = runs["fresh@1"], runs["fresh-mislabelled@1"]
    assert good.trigger == bad.trigger == "alarm:churn-drift"
    good = pipelines.get_pipeline_run(admin, good.id)
    bad = pipelines.get_pipeline_run(admin, bad.id)
    assert good.status == "succeeded", good.message
    assert [s.status for s in good.steps] == ["succeeded"] * 5
    assert good.step("register").outputs["model_version"] == "churn@2"
    assert bad.status == "succeeded", bad.message
    assert bad.step("evaluate").outputs["passed"] is False
    assert [bad.step(n).status for n in ("register", "deploy")] == ["skipped", "skipped"]

    assert registry.get_model_version(admin, "churn@champion").version == 2
    assert endpoints.get_endpoint(admin, "churn-ep").model_version == 2
    assert deploy.get_deployment(admin, good.step("deploy").outputs["deployment"]).status == (
        "succeeded"
    )
    assert pipelines.produced_by(platform, "model-version", "churn@2") == [
        ("retrain", good.id, "register")
    ]
    history = alarms.alarm_history(admin, "churn-drift")
    assert [h.new_state for h in history if h.new_state == "ALARM"]
    with platform.db.session() as session:
        drift = monitoring.metric_points(session, "churn-mon", "drift_share")
    assert drift[0].value == 0 and max(p.value for p in drift) >= 0.5
