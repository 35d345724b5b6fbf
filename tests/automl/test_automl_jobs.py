"""AutoML jobs end to end: a winner within the budget, registered, served; cancel; bad input."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.automl.conftest import BUDGET_SECONDS, ingest_breast_cancer, ingest_diabetes
from tests.conftest import LiveServer
from tests.training.conftest import endpoint_caller

from shipyard.client import Client
from shipyard.client._transport import HttpTransport
from shipyard.config import Settings
from shipyard.endpoints import build_serving_app
from shipyard.errors import Conflict, InvalidInput, NotFound
from shipyard.platform import Platform

pytestmark = pytest.mark.usefixtures("warm_job_host")


@pytest.fixture(params=["local-classification", "http-regression"])
def case(request: pytest.FixtureRequest, settings: Settings) -> Iterator[tuple[Client, str]]:
    """Classification in-process, regression over HTTP: each task, each transport."""
    transport, task = request.param.split("-")
    if transport == "local":
        sdk = Client(settings=settings)
    else:
        live: LiveServer = request.getfixturevalue("api_server")
        key: str = request.getfixturevalue("admin_key")
        sdk = Client(transport=HttpTransport(live.url, key))
    yield sdk, task
    sdk.close()


def test_a_winner_is_picked_within_the_budget_registered_and_served(
    case: tuple[Client, str], platform: Platform, tmp_path: Path
) -> None:
    client, task = case
    if task == "classification":
        dataset, target, metric = ingest_breast_cancer(client, tmp_path), "diagnosis", "roc_auc"
    else:
        dataset, target, metric = ingest_diabetes(client, tmp_path), "target", "r2"
    job = client.automl.start(
        dataset, target=target, budget=f"{BUDGET_SECONDS:g}s", register="auto-model"
    )
    assert job.task == task and job.register_to == "auto-model"
    done = client.automl.wait(job.id, timeout=BUDGET_SECONDS * 3)
    assert done.started_at is not None and done.ended_at is not None
    wall = (done.ended_at - done.created_at).total_seconds()
    assert wall <= BUDGET_SECONDS * 1.05, f"took {wall:.2f} s of a {BUDGET_SECONDS} s budget"

    board = client.automl.leaderboard(done.id)
    assert board.metric == metric and board.trials >= len(board.entries) >= 2
    assert [e.rank for e in board.entries] == list(range(1, len(board.entries) + 1))
    winner = [e for e in board.entries if e.winner]
    assert len(winner) == 1 and winner[0].rank == 1 and board.winner == winner[0].family
    for entry in board.entries:
        assert entry.fit_seconds > 0 and entry.predict_us_per_row > 0
        assert len(entry.fold_scores) == 5 and entry.score_std >= 0
    assert winner[0].model_bytes and winner[0].model_bytes > 0
    assert done.registered == "auto-model@1" == board.registered
    version = client.models.version("auto-model@1")
    assert version.run_id == done.run_id
    assert version.metrics[metric] == pytest.approx(winner[0].score)
    assert done.run_id is not None
    assert len(client.tracking.children(done.run_id)) == board.trials

    client.endpoints.create("auto", "auto-model@1")
    app = build_serving_app(platform, "auto")
    live = LiveServer(app)
    try:
        key = endpoint_caller(platform, "auto", ["endpoints:Invoke"])
        rows = client.datasets.head(dataset, rows=3).rows
        records = [{k: v for k, v in row.items() if k != target} for row in rows]
        answer = httpx.post(
            f"{live.url}/invocations",
            json={"dataframe_records": records},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["predictions"]) == 3
    finally:
        live.close()
        app.authorizer.stop()  # type: ignore[attr-defined]


def test_a_cancelled_job_stops_and_registers_nothing(sdk: Client, tmp_path: Path) -> None:
    dataset = ingest_breast_cancer(sdk, tmp_path)
    job = sdk.automl.start(dataset, target="diagnosis", budget="60s", register="never")
    deadline = time.monotonic() + 30
    while sdk.automl.get(job.id).status != "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    cancelled = sdk.automl.cancel(job.id)
    assert cancelled.status == "cancelled"
    with pytest.raises(Conflict):
        sdk.automl.leaderboard(job.id)
    with pytest.raises(NotFound):
        sdk.models.get("never")
    with pytest.raises(Conflict):
        sdk.automl.cancel(job.id)


BAD_INPUT = [
    ({"target": "nope"}, "target"),
    ({"target": "label"}, "target"),
    ({"target": "target", "budget": "5s"}, "budget"),
    ({"target": "target", "budget": "ten minutes"}, "budget"),
    ({"target": "target", "metric": "r2"}, "metric"),
    ({"target": "target", "task": "clustering"}, "task"),
    ({"target": "target", "register": "bad name!"}, "register_to"),
]


def test_bad_input_names_its_field_and_stores_nothing(client: Client, tmp_path: Path) -> None:
    rows = "".join(f"{i},{i % 3},{i % 2},{'' if i % 4 else 'x'}\n" for i in range(40))
    (tmp_path / "small.csv").write_text("a,b,target,label\n" + rows)
    dataset = client.datasets.ingest(tmp_path / "small.csv", "small").ref
    for options, field in BAD_INPUT:
        with pytest.raises(InvalidInput) as raised:
            client.automl.start(dataset, **options)  # type: ignore[arg-type]
        assert raised.value.field == field, options
    with pytest.raises(NotFound):
        client.automl.start("missing@1", target="target", budget="20s")
    assert client.automl.list() == []
