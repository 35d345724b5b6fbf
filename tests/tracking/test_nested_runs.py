"""Parent and child runs, the latest-metric record kept on write, and metric histories as
columns, through both SDK transports on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from shipyard.client import Client
from shipyard.errors import InvalidInput, NotFound


def test_nested_blocks_set_the_parent(client: Client) -> None:
    with client.start_run(experiment="tune", name="sweep") as sweep:
        with (  # the second is started inside the first's block
            client.start_run(experiment="tune", name="trial-1") as first,
            client.start_run(experiment="tune", name="fold") as fold,
        ):
            pass
        with client.start_run(experiment="tune", name="trial-2") as second:
            pass
        apart = client.start_run(experiment="tune", name="apart", nested=False)
        apart.end()
        elsewhere = client.start_run(experiment="other", name="elsewhere")
        elsewhere.end()
    after = client.start_run(experiment="tune", name="after")
    after.end()
    parents = {r.name: r.parent_run_id for r in client.tracking.search_runs(["tune", "other"]).runs}
    assert parents == {
        "sweep": None,
        "trial-1": sweep.id,
        "fold": first.id,
        "trial-2": sweep.id,
        "apart": None,  # nested=False
        "elsewhere": None,  # another experiment is never a child
        "after": None,  # the block has ended
    }
    assert [r.id for r in client.tracking.children(sweep.id)] == [second.id, first.id]
    assert [r.id for r in client.tracking.children(first.id)] == [fold.id]
    mlflow_style = client.tracking.search_runs(
        ["tune"], f"tags.mlflow.parentRunId = '{sweep.id}'", order_by=["attributes.run_name"]
    )
    assert [r.name for r in mlflow_style.runs] == ["trial-1", "trial-2"]
    top = client.tracking.search_runs(["tune"], "tags.mlflow.parentRunId IS NULL")
    assert {r.name for r in top.runs} == {"sweep", "apart", "after"}
    assert client.tracking.get_run(fold.id).parent_run_id == first.id


def test_explicit_parent_and_bad_parents(client: Client) -> None:
    parent = client.start_run(experiment="tune", name="parent")
    child = client.start_run(experiment="tune", name="child", parent=parent)
    by_id = client.start_run(experiment="tune", name="by-id", parent=parent.id)
    assert child.info.parent_run_id == parent.id
    assert by_id.info.parent_run_id == parent.id
    with pytest.raises(InvalidInput) as other_experiment:
        client.start_run(experiment="other", parent=parent.id)
    assert other_experiment.value.field == "parent"
    with pytest.raises(NotFound) as missing:
        client.start_run(experiment="tune", parent="0" * 32)
    assert missing.value.field == "parent"
    names = {r.name for r in client.tracking.search_runs().runs}
    assert names == {"parent", "child", "by-id"}  # nothing half-made by the refusals
    assert [e.name for e in client.tracking.list_experiments()] == ["tune"]


def test_latest_metric_is_highest_step_then_time_then_last_write(client: Client) -> None:
    run = client.start_run(experiment="latest")
    run.log_metric("loss", 0.5, step=3, timestamp=100.0)
    run.log_metric("loss", 0.9, step=1, timestamp=200.0)  # an older step, logged later
    run.flush()
    run.log_metric("loss", 0.4, step=3, timestamp=100.0)  # a tie: the later write wins
    run.log_metric("acc", 0.1, step=0)
    run.flush()
    run.log_metric("acc", 0.2, step=0, timestamp=1.0)  # same step, older time: ignored
    run.end()
    assert client.tracking.get_run(run.id).metrics == {"loss": 0.4, "acc": 0.1}
    assert client.tracking.search_runs(["latest"], "metrics.loss = 0.4").runs[0].id == run.id


def test_metric_series_are_columns_in_step_order(client: Client) -> None:
    with client.start_run(experiment="series") as run:
        for step in reversed(range(1500)):
            run.log_metric("loss", 1.0 / (step + 1), step=step, timestamp=float(step))
        run.log_metric("auc", 0.8, step=0, timestamp=5.0)
    series = client.tracking.metric_series(run.id)
    assert set(series) == {"loss", "auc"}
    assert series["loss"].steps == list(range(1500))
    assert series["loss"].values[0] == 1.0
    assert series["loss"].timestamps[-1] == 1499.0
    assert list(client.tracking.metric_series(run.id, "auc")) == ["auc"]
    assert client.tracking.metric_series(run.id, "nothing") == {}
    points = client.tracking.metric_history(run.id, "loss")
    assert [p.step for p in points] == list(range(1500))
    assert client.transport.call("tracking.metric_history", run_id=run.id, key="auc") == [
        {"key": "auc", "value": 0.8, "step": 0, "timestamp": 5.0}
    ]
    with pytest.raises(NotFound):
        client.tracking.metric_series("0" * 32)
