"""Bad monitor requests are refused naming the field, and nothing is stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sklearn.linear_model import LogisticRegression
from tests.endpoints.dataplanekit import embedded
from tests.monitoring.monitorkit import CAPTURE, frame, ingest_training, now, register

from shipyard import errors
from shipyard.client import Client
from shipyard.platform import Platform
from shipyard.store.metadata import monitor_tables as mt


def _count(platform: Platform) -> tuple[int, int]:
    with platform.db.session() as session:
        monitors = session.scalar(sa.select(sa.func.count()).select_from(mt.Monitor))
        runs = session.scalar(sa.select(sa.func.count()).select_from(mt.MonitorRun))
    return int(monitors or 0), int(runs or 0)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with embedded(tmp_path_factory.mktemp("monitors")) as platform:
        data = ingest_training(platform)
        register(platform, data)  # churn@1, with lineage
        register(platform, None, model="orphan")  # no training data recorded
        with Client(settings=platform.settings) as client:
            client.endpoints.create("tree-ep", model="churn@1", capture=CAPTURE)
            client.endpoints.create("orphan-ep", model="orphan@1", capture=CAPTURE)
            client.endpoints.create("bare-ep", model="churn@1")  # no capture
            outputs = {**CAPTURE, "mode": "output"}
            client.endpoints.create("outputs-ep", model="churn@1", capture=outputs)
            client.monitors.create("kept", endpoint="tree-ep")
            yield platform, client


CASES: dict[str, tuple[Callable[[Client], Any], type[Exception], str]] = {
    "unknown kind": (
        lambda c: c.monitors.create("m", endpoint="tree-ep", kinds=["data", "bias"]),
        errors.InvalidInput,
        "kinds",
    ),
    "no kinds": (
        lambda c: c.monitors.create("m", endpoint="tree-ep", kinds=[]),
        errors.InvalidInput,
        "kinds",
    ),
    "bad schedule": (
        lambda c: c.monitors.create("m", endpoint="tree-ep", schedule="often"),
        errors.InvalidInput,
        "schedule",
    ),
    "too short a schedule": (
        lambda c: c.monitors.create("m", endpoint="tree-ep", schedule="0m"),
        errors.InvalidInput,
        "schedule",
    ),
    "an endpoint that captures nothing": (
        lambda c: c.monitors.create("m", endpoint="bare-ep"),
        errors.InvalidInput,
        "endpoint",
    ),
    "data drift on an endpoint capturing only outputs": (
        lambda c: c.monitors.create("m", endpoint="outputs-ep", kinds=["data"]),
        errors.InvalidInput,
        "endpoint",
    ),
    "bad name": (
        lambda c: c.monitors.create("no spaces allowed", endpoint="tree-ep"),
        errors.InvalidInput,
        "name",
    ),
    "no lineage and no baseline": (
        lambda c: c.monitors.create("m", endpoint="orphan-ep"),
        errors.InvalidInput,
        "baseline",
    ),
    "baseline by alias": (
        lambda c: c.monitors.create("m", endpoint="tree-ep", baseline="train@latest"),
        errors.InvalidInput,
        "baseline",
    ),
    "unknown baseline": (
        lambda c: c.monitors.create("m", endpoint="tree-ep", baseline="nothing@1"),
        errors.NotFound,
        "dataset",
    ),
    "unknown endpoint": (
        lambda c: c.monitors.create("m", endpoint="nowhere"),
        errors.NotFound,
        "endpoint",
    ),
    "taken name": (
        lambda c: c.monitors.create("kept", endpoint="tree-ep"),
        errors.Conflict,
        "name",
    ),
    "window end before start": (
        lambda c: c.monitors.run("kept", window_start=now(), window_end=now() - timedelta(1)),
        errors.InvalidInput,
        "window_end",
    ),
    "half a window": (
        lambda c: c.monitors.run("kept", window_start=now()),
        errors.InvalidInput,
        "window_end",
    ),
    "a window over 31 days": (
        lambda c: c.monitors.run("kept", window_start=now() - timedelta(40), window_end=now()),
        errors.InvalidInput,
        "window_end",
    ),
    "no such run": (lambda c: c.monitors.report("kept", run=7), errors.NotFound, "run"),
    "no such monitor": (lambda c: c.monitors.get("missing"), errors.NotFound, "name"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_names_the_field_and_stores_nothing(world: Any, case: str) -> None:
    platform, client = world
    call, error, field = CASES[case]
    before = _count(platform)
    with pytest.raises(error) as raised:
        call(client)
    assert raised.value.field == field, raised.value
    assert _count(platform) == before


def test_attribution_and_estimates_are_refused_for_models_that_cannot_give_them(
    tmp_path: Path,
) -> None:
    with embedded(tmp_path) as platform, Client(settings=platform.settings) as client:
        data = ingest_training(platform)
        table = frame(500, seed=1)
        numeric = table[["x0", "x1", "x2"]]
        from tests.monitoring import monitorkit

        version = monitorkit.register_estimator(
            platform, LogisticRegression().fit(numeric, table["label"]), data, "linear"
        )
        client.endpoints.create("linear-ep", model=f"linear@{version}", capture=CAPTURE)
        with pytest.raises(errors.InvalidInput) as raised:
            client.monitors.create("m", endpoint="linear-ep", kinds=["data", "attribution"])
        assert raised.value.field == "kinds" and "sklearn" in raised.value.message
        assert _count(platform) == (0, 0)
        info = client.monitors.create("m", endpoint="linear-ep", kinds=["data", "estimated"])
        assert info.kinds == ["data", "estimated"]
