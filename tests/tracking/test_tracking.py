"""Experiment tracking through the SDK, both transports, both metadata backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.client import Client
from shipyard.errors import Conflict, InvalidInput, NotFound


def test_run_lifecycle_with_batched_metrics(client: Client, tmp_path: Path) -> None:
    with client.start_run(experiment="exp", name="first", params={"lr": 0.1}) as run:
        run.log_params({"depth": 3})
        run.set_tags({"team": "risk"})
        for step in range(2500):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
        run.log_metric("accuracy", 0.9)
        (tmp_path / "notes.txt").write_text("hello")
        artifact = run.log_artifact(tmp_path / "notes.txt", "docs/notes.txt")
    info = client.tracking.get_run(run.id)
    assert info.status == "finished"
    assert info.params == {"lr": "0.1", "depth": "3"}
    assert info.tags == {"team": "risk"}
    assert info.metrics["loss"] == pytest.approx(1.0 / 2500)
    assert info.metrics["accuracy"] == pytest.approx(0.9)
    history = client.tracking.metric_history(run.id, "loss")
    assert [m.step for m in history] == list(range(2500))
    assert client.tracking.get_artifact(run.id, "docs/notes.txt") == b"hello"
    assert artifact.digest.startswith("sha256:")
    experiments = {e.name: e.runs for e in client.tracking.list_experiments()}
    assert experiments == {"exp": 1}
    assert [r.id for r in client.tracking.list_runs("exp")] == [run.id]


def test_failed_block_marks_the_run_failed(client: Client) -> None:
    with pytest.raises(RuntimeError), client.start_run(experiment="exp") as run:
        raise RuntimeError("boom")
    assert client.tracking.get_run(run.id).status == "failed"


def test_bad_tracking_input(client: Client) -> None:
    with pytest.raises(NotFound):
        client.tracking.get_run("no-such-run")
    with pytest.raises(NotFound):
        client.tracking.list_runs("no-such-experiment")
    run = client.start_run(experiment="exp")
    run.log_params({"lr": 0.1})
    with pytest.raises(Conflict) as caught:
        run.log_params({"lr": 0.2})
    assert caught.value.field == "params.lr"
    with pytest.raises(InvalidInput):
        client.transport.call(
            "tracking.log_batch", run_id=run.id, metrics=[{"key": "x", "value": "NaN"}]
        )
    with pytest.raises(InvalidInput):
        client.transport.call(
            "tracking.log_batch", run_id=run.id, metrics=[{"key": "", "value": 1}]
        )
    with pytest.raises(InvalidInput) as bad_path:
        client.transport.call("tracking.log_artifact", run_id=run.id, path="../x", content=b"x")
    assert bad_path.value.field == "path"
    run.end()
    with pytest.raises(Conflict):
        run.log_metric("late", 1.0)
        run.flush()
    with pytest.raises(InvalidInput) as status:
        client.transport.call("tracking.end_run", run_id=run.id, status="weird")
    assert status.value.field == "status"
    with pytest.raises(Conflict):
        client.tracking.create_experiment("exp")
    assert client.tracking.get_run(run.id).params == {"lr": "0.1"}


def test_a_deleted_run_is_hidden_from_lists_and_restorable(client: Client) -> None:
    with client.start_run(experiment="soft", name="kept") as kept:
        kept.log_metric("loss", 0.5)
    with client.start_run(experiment="soft", name="dropped") as dropped:
        dropped.log_metric("loss", 0.7)
    gone = client.tracking.delete_run(dropped.id)
    assert gone.deleted and gone.metrics == {"loss": pytest.approx(0.7)}
    assert client.tracking.delete_run(dropped.id).deleted  # again: no change
    assert [r.id for r in client.tracking.list_runs("soft")] == [kept.id]
    assert [r.id for r in client.tracking.list_runs("soft", view="deleted")] == [dropped.id]
    assert {r.id for r in client.tracking.list_runs("soft", view="all")} == {kept.id, dropped.id}
    assert client.tracking.get_run(dropped.id).deleted
    with pytest.raises(InvalidInput, match="view"):
        client.tracking.list_runs("soft", view="gone")
    restored = client.tracking.restore_run(dropped.id)
    assert not restored.deleted and restored.metrics == gone.metrics
    assert {r.id for r in client.tracking.list_runs("soft")} == {kept.id, dropped.id}
    with pytest.raises(NotFound):
        client.tracking.delete_run("0" * 32)
