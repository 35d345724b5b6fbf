"""Purging deleted runs for good, on SQLite and PostgreSQL with real blob files: what the
runs logged goes, a blob something live still uses stays, a tombstone stays in lineage,
and every refusal leaves everything as it was."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from tests.endpoints.dataplanekit import booster, signature

from shipyard import errors
from shipyard.client import Client
from shipyard.clock import utcnow
from shipyard.flavors import save_model
from shipyard.platform import Platform
from shipyard.registry import MODEL_ARTIFACT, MODEL_META
from shipyard.store.metadata import tables as t


@pytest.fixture
def sdk(platform: Platform) -> Client:
    return Client(settings=platform.settings)


def _model_files() -> dict[str, bytes]:
    meta = orjson.dumps({"flavor": "lightgbm", "signature": signature().model_dump(mode="json")})
    return {MODEL_ARTIFACT: save_model(booster(3))[1], MODEL_META: meta}


def _run(sdk: Client, tmp_path: Path, files: dict[str, bytes], experiment: str = "purges") -> str:
    """A finished run with a param, a tag, a metric history and ``files`` as artifacts."""
    with sdk.start_run(experiment=experiment) as run:
        run.log_params({"depth": 6})
        run.set_tags({"team": "fraud"})
        for step in range(3):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
        for name, data in files.items():
            local = tmp_path / f"{run.id}-{name.replace('/', '-')}"
            local.write_bytes(data)
            run.log_artifact(local, name=name)
    return run.id


def _logged_rows(platform: Platform, run_id: str) -> dict[str, int]:
    tables = (t.RunParam, t.RunTag, t.RunMetric, t.RunLatestMetric, t.RunArtifact)
    with platform.db.session() as session:
        return {
            table.__tablename__: session.scalar(
                sa.select(sa.func.count()).select_from(table).where(table.run_id == run_id)
            )
            or 0
            for table in tables
        }


def _digest(sdk: Client, run_id: str, path: str) -> str:
    return next(a.digest for a in sdk.tracking.get_run(run_id).artifacts if a.path == path)


def _deleted_days_ago(platform: Platform, run_id: str, days: int) -> None:
    with platform.db.session() as session:
        row = session.get(t.Run, run_id)
        assert row is not None
        row.deleted_at = utcnow() - timedelta(days=days)


def test_a_purge_removes_what_the_run_logged_and_keeps_a_blob_a_model_version_uses(
    sdk: Client, platform: Platform, tmp_path: Path
) -> None:
    model = _model_files()
    registered = _run(sdk, tmp_path, model)
    sdk.models.register("churn", registered)
    doomed = _run(sdk, tmp_path, {**model, "notes/report.txt": b"only this run's bytes"})
    shared, own = _digest(sdk, doomed, MODEL_ARTIFACT), _digest(sdk, doomed, "notes/report.txt")
    assert platform.blobs.get_bytes(own) == b"only this run's bytes"
    sdk.tracking.delete_run(doomed)

    done = sdk.tracking.purge_runs([doomed], reason="GDPR ticket 7")

    assert done.purged == [doomed] and done.purged_by == "admin" and not done.dry_run
    assert done.purged_blobs == 1  # the report; the model file and its meta are m@1's too
    assert any("named by model churn@1" in kept for kept in done.kept_blobs)
    assert not platform.blobs.exists(own)
    with pytest.raises(errors.NotFound):
        platform.blobs.get_bytes(own)
    assert platform.blobs.get_bytes(shared) == model[MODEL_ARTIFACT]
    assert set(_logged_rows(platform, doomed).values()) == {0}
    assert _logged_rows(platform, registered)["run_params"] == 1  # the other run untouched

    with pytest.raises(errors.NotFound, match=r"was purged on .* by admin: GDPR ticket 7"):
        sdk.tracking.get_run(doomed)
    with pytest.raises(errors.NotFound, match="purged"):
        sdk.tracking.restore_run(doomed)
    assert doomed not in [r.id for r in sdk.tracking.list_runs("purges", view="all")]
    with platform.db.session() as session:
        audited = session.scalars(
            sa.select(t.AuditEvent).where(t.AuditEvent.action == "tracking:PurgeRun")
        ).all()
    assert [(e.outcome, e.detail["reason"], e.detail["purged"]) for e in audited] == [
        ("succeeded", "GDPR ticket 7", [doomed])
    ]


def test_a_run_a_live_model_version_came_from_is_refused_until_the_version_is_deleted(
    sdk: Client, platform: Platform, tmp_path: Path
) -> None:
    run_id = _run(sdk, tmp_path, _model_files())
    sdk.models.register("churn", run_id)
    digest = _digest(sdk, run_id, MODEL_ARTIFACT)
    sdk.tracking.delete_run(run_id)

    with pytest.raises(errors.Conflict, match=r"model version churn@1 was registered from run"):
        sdk.tracking.purge_runs([run_id], reason="cleanup")
    assert sdk.tracking.get_run(run_id).params == {"depth": "6"}

    sdk.models.delete("churn@1", reason="retired")
    assert platform.blobs.exists(digest)  # the run's artifact kept it
    done = sdk.tracking.purge_runs([run_id], reason="cleanup")
    assert done.purged == [run_id] and done.purged_blobs == 2
    assert not platform.blobs.exists(digest)

    graph = sdk.models.lineage("churn@1")
    run_node = next(n for n in graph.nodes if n.kind == "run")
    assert run_node.deleted is not None
    assert run_node.deleted.startswith("purged on ") and run_node.deleted.endswith(
        "by admin: cleanup"
    )
    run_graph = sdk.models.lineage(run_id, kind="run")
    assert {n.kind for n in run_graph.nodes} == {"run", "model"}


@pytest.mark.parametrize(
    ("case", "error", "field"),
    [
        ("unknown", errors.NotFound, "run_ids.1"),
        ("live", errors.Conflict, "run_ids.1"),
        ("bad age", errors.InvalidInput, "older_than"),
        ("too young", errors.Conflict, "older_than"),
        ("no reason", errors.InvalidInput, "reason"),
        ("nothing named", errors.InvalidInput, "run_ids"),
        ("other experiment", errors.InvalidInput, "run_ids.0"),
        ("unknown experiment", errors.NotFound, "experiment"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(
    sdk: Client, platform: Platform, tmp_path: Path, case: str, error: type, field: str
) -> None:
    deleted = _run(sdk, tmp_path, {"a.txt": b"deleted run's artifact"})
    live = _run(sdk, tmp_path, {"b.txt": b"live run's artifact"})
    sdk.tracking.delete_run(deleted)
    digest = _digest(sdk, deleted, "a.txt")
    arguments: dict[str, object] = {"run_ids": [deleted, live], "reason": "cleanup"}
    if case == "unknown":
        arguments["run_ids"] = [deleted, "f" * 32]
    elif case == "bad age":
        arguments.update(run_ids=[deleted], older_than="a month")
    elif case == "too young":
        arguments.update(run_ids=[deleted], older_than="30d")
    elif case == "no reason":
        arguments.update(run_ids=[deleted], reason="  ")
    elif case == "nothing named":
        arguments["run_ids"] = []
    elif case == "other experiment":
        arguments.update(run_ids=[deleted], experiment="elsewhere")
        sdk.tracking.create_experiment("elsewhere")
    elif case == "unknown experiment":
        arguments.update(run_ids=None, experiment="nope")
    before = _logged_rows(platform, deleted)

    with pytest.raises(error) as raised:
        sdk.tracking.purge_runs(**arguments)  # type: ignore[arg-type]

    assert raised.value.field == field
    if case == "live":
        assert live in str(raised.value) and "not deleted" in str(raised.value)
    assert _logged_rows(platform, deleted) == before and before["run_artifacts"] == 1
    assert platform.blobs.get_bytes(digest) == b"deleted run's artifact"
    assert sdk.tracking.get_run(deleted).deleted


def test_an_experiments_runs_deleted_long_enough_ago_dry_run_then_purge(
    sdk: Client, platform: Platform, tmp_path: Path
) -> None:
    old, recent, live = (_run(sdk, tmp_path, {"x.txt": f"{n}".encode()}) for n in range(3))
    other = _run(sdk, tmp_path, {"y.txt": b"other experiment"}, experiment="elsewhere")
    for run_id in (old, recent, other):
        sdk.tracking.delete_run(run_id)
    _deleted_days_ago(platform, old, 40)
    _deleted_days_ago(platform, other, 40)
    old_digest = _digest(sdk, old, "x.txt")

    dry = sdk.tracking.purge_runs(experiment="purges", older_than="30d", reason="gc", dry_run=True)
    assert (dry.purged, dry.purged_blobs, dry.dry_run) == ([old], 1, True)
    assert platform.blobs.exists(old_digest) and _logged_rows(platform, old)["run_params"] == 1

    done = sdk.tracking.purge_runs(experiment="purges", older_than="30d", reason="gc")
    assert done.purged == [old] and done.resource == "sy:experiment/purges"
    assert not platform.blobs.exists(old_digest)
    assert sdk.tracking.get_run(recent).deleted and sdk.tracking.get_run(other).deleted
    assert not sdk.tracking.get_run(live).deleted

    everything = sdk.tracking.purge_runs(experiment="purges", reason="gc")
    assert everything.purged == [recent]  # no age: every deleted run left
    assert sdk.tracking.purge_runs(experiment="purges", reason="gc").purged == []
    assert [r.id for r in sdk.tracking.list_runs("purges", view="all")] == [live]


def test_a_sweep_purges_only_the_runs_its_check_authorized(
    sdk: Client, platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A run deleted after the sweep's runs were chosen for the check and before they are
    # chosen again to purge was never authorized: it waits for the next sweep.
    from shipyard.tracking import _purge

    first, late = (_run(sdk, tmp_path, {"z.txt": f"{n}".encode()}) for n in range(2))
    sdk.tracking.delete_run(first)
    choose = _purge.deleted_runs
    calls: list[list[str]] = []

    def chosen_then_another_deleted(*args: object, **kwargs: object) -> list[str]:
        found = choose(*args, **kwargs)  # type: ignore[arg-type]
        calls.append(found)
        if len(calls) == 1:  # the check has its runs: another run is deleted meanwhile
            sdk.tracking.delete_run(late)
        return found

    monkeypatch.setattr(_purge, "deleted_runs", chosen_then_another_deleted)
    done = sdk.tracking.purge_runs(experiment="purges", reason="gc")
    assert calls == [[first], [first, late]]
    assert done.purged == [first] and done.more
    assert _logged_rows(platform, late)["run_params"] == 1  # deleted, not purged
    monkeypatch.undo()
    assert sdk.tracking.purge_runs(experiment="purges", reason="gc").purged == [late]
