"""Retention rules applied by hand (dry run and real) and by the scheduler, on SQLite and
PostgreSQL: captures older than N days, dataset versions beyond the last K and runs deleted
more than N days ago go, with their blobs, each delete audited."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from shipyard import errors
from shipyard.client import Client
from shipyard.clock import utcnow
from shipyard.endpoints._capture_delete import hour_key
from shipyard.platform import Platform
from shipyard.retention import put_rule
from shipyard.retention._scheduled import SOURCE
from shipyard.scheduling import Scheduler
from shipyard.security import context_for
from shipyard.store.metadata import endpoint_tables
from shipyard.store.metadata import tables as t
from shipyard.tracking import purge_runs


@pytest.fixture
def sdk(platform: Platform) -> Client:
    return Client(settings=platform.settings)


def _capture(platform: Platform, endpoint: str, hours_ago: int) -> tuple[str, str]:
    hour = hour_key(utcnow() - timedelta(hours=hours_ago))
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"request": [f"{endpoint} {hour}"]}), sink)
    digest = platform.blobs.put_bytes(sink.getvalue().to_pybytes())
    with platform.db.session() as session:
        session.add(
            endpoint_tables.CaptureFile(endpoint=endpoint, hour=hour, digest=digest, rows=1)
        )
    return hour, digest


def _version(sdk: Client, tmp_path: Path, name: str, rows: int) -> None:
    sink = io.BytesIO()
    pacsv.write_csv(pa.table({"id": list(range(rows))}), sink)
    path = tmp_path / f"{name}-{rows}.csv"
    path.write_bytes(sink.getvalue())
    sdk.datasets.ingest(path, name)


def test_captures_older_than_the_rule_go_on_apply(sdk: Client, platform: Platform) -> None:
    old_hour, old_digest = _capture(platform, "ep", hours_ago=24 * 40)
    new_hour, new_digest = _capture(platform, "ep", hours_ago=1)
    _capture(platform, "other", hours_ago=24 * 40)  # no rule: untouched
    sdk.retention.put_rule("captures", "ep", days=30)

    dry = sdk.retention.apply(dry_run=True)
    assert [(o.target, o.deleted) for o in dry.outcomes] == [("ep", [f"capture ep {old_hour}"])]
    assert platform.blobs.exists(old_digest)

    done = sdk.retention.apply()
    assert done.outcomes[0].deleted == [f"capture ep {old_hour}"]
    assert done.outcomes[0].purged_blobs == 1
    assert not platform.blobs.exists(old_digest) and platform.blobs.exists(new_digest)
    with platform.db.session() as session:
        left = session.execute(
            sa.select(endpoint_tables.CaptureFile.endpoint, endpoint_tables.CaptureFile.hour)
        ).all()
        audited = session.scalars(
            sa.select(t.AuditEvent.detail).where(t.AuditEvent.action == "endpoints:DeleteCapture")
        ).all()
    assert sorted(e for e, _ in left) == ["ep", "other"] and ("ep", new_hour) in left
    assert [d["reason"] for d in audited] == ["retention: captures older than 30 days"]
    assert sdk.retention.apply().outcomes[0].deleted == []  # nothing left to go


def test_dataset_versions_beyond_the_last_k_become_tombstones(
    sdk: Client, platform: Platform, tmp_path: Path
) -> None:
    for rows in (1, 2, 3, 4):
        _version(sdk, tmp_path, "events", rows)
    sdk.retention.put_rule("dataset_versions", "events", keep_last=2)
    assert sdk.retention.apply(dry_run=True).outcomes[0].deleted == ["events@1", "events@2"]
    assert all(v.deleted_at is None for v in sdk.datasets.versions("events"))

    done = sdk.retention.apply(kind="dataset_versions")
    assert done.outcomes[0].deleted == ["events@1", "events@2"]
    assert done.outcomes[0].purged_blobs == 2
    versions = {v.version: v for v in sdk.datasets.versions("events")}
    assert versions[1].deleted_reason == "retention: keep the last 2 versions"
    assert versions[3].deleted_at is None and sdk.datasets.read("events@4").num_rows == 4


def test_the_scheduler_applies_each_rule_as_whoever_set_it(sdk: Client, platform: Platform) -> None:
    _, old_digest = _capture(platform, "ep", hours_ago=24 * 10)
    sdk.retention.put_rule("captures", "ep", days=7, every_seconds=60)
    with platform.db.session() as session:
        (schedule,) = SOURCE.schedules(session)
    assert (schedule.kind, schedule.target, schedule.principal) == (
        "retention",
        "captures:ep",
        "admin",
    )
    later = utcnow() + timedelta(seconds=90)
    scheduler = Scheduler(platform, {"retention": SOURCE}, clock=lambda: later)
    assert scheduler.tick() >= 1
    scheduler.wait_idle()
    assert not platform.blobs.exists(old_digest)


def _deleted_run(sdk: Client, platform: Platform, tmp_path: Path, days_ago: int) -> str:
    """A run of experiment "exp" with one artifact of its own, deleted ``days_ago``."""
    with sdk.start_run(experiment="exp") as run:
        run.log_params({"seed": days_ago})
        local = tmp_path / f"{run.id}.txt"
        local.write_bytes(f"artifact of {run.id}".encode())
        run.log_artifact(local, name="notes.txt")
    sdk.tracking.delete_run(run.id)
    with platform.db.session() as session:
        row = session.get(t.Run, run.id)
        assert row is not None
        row.deleted_at = utcnow() - timedelta(days=days_ago)
    return run.id


def test_runs_deleted_more_than_n_days_ago_are_purged_each_on_its_own(
    sdk: Client, platform: Platform, tmp_path: Path
) -> None:
    old, older = (_deleted_run(sdk, platform, tmp_path, days) for days in (40, 50))
    recent = _deleted_run(sdk, platform, tmp_path, 2)
    blocked = _deleted_run(sdk, platform, tmp_path, 60)
    with platform.db.session() as session:  # a live model version came from it
        digest = session.scalar(sa.select(t.RunArtifact.digest).where(t.RunArtifact.run_id == old))
        model = t.Model(name="m")
        session.add(model)
        session.flush()
        session.add(
            t.ModelVersion(
                model_id=model.id, version=1, run_id=blocked, flavor="lightgbm", digest="x",
                size_bytes=1, signature={}, metrics={}, created_by="admin",
            )
        )  # fmt: skip
    sdk.retention.put_rule("deleted_runs", "exp", days=30)
    assert [(r.kind, r.target, r.days) for r in sdk.retention.list_rules()] == [
        ("deleted_runs", "exp", 30)
    ]

    dry = sdk.retention.apply(dry_run=True)
    assert dry.outcomes[0].deleted == [f"run {blocked}", f"run {older}", f"run {old}"]
    assert sdk.tracking.get_run(old).params == {"seed": "40"} and platform.blobs.exists(digest)

    done = sdk.retention.apply(kind="deleted_runs").outcomes[0]
    assert done.deleted == [f"run {older}", f"run {old}"] and done.purged_blobs == 2
    assert done.skipped == [
        f"run {blocked}: model version m@1 was registered from run {blocked}; "
        "delete that version first"
    ]
    assert not platform.blobs.exists(digest)
    with pytest.raises(errors.NotFound, match="retention: deleted runs older than 30 days"):
        sdk.tracking.get_run(old)
    assert sdk.tracking.get_run(recent).deleted
    with platform.db.session() as session:
        audited = session.scalars(
            sa.select(t.AuditEvent.detail).where(
                t.AuditEvent.action == "tracking:PurgeRun", t.AuditEvent.outcome == "succeeded"
            )
        ).all()
    assert sorted(d["purged"][0] for d in audited) == sorted([old, older])
    assert {d["reason"] for d in audited} == {"retention: deleted runs older than 30 days"}


def test_the_scheduler_purges_deleted_runs_as_the_rules_creator(
    sdk: Client, platform: Platform, tmp_path: Path
) -> None:
    old = _deleted_run(sdk, platform, tmp_path, 10)
    sdk.retention.put_rule("deleted_runs", "exp", days=7, every_seconds=60)
    later = utcnow() + timedelta(seconds=90)
    scheduler = Scheduler(platform, {"retention": SOURCE}, clock=lambda: later)
    assert scheduler.tick() >= 1
    scheduler.wait_idle()
    with pytest.raises(errors.NotFound, match="purged"):
        sdk.tracking.get_run(old)
    with platform.db.session() as session:
        who = session.scalars(
            sa.select(t.AuditEvent.principal).where(t.AuditEvent.action == "tracking:PurgeRun")
        ).all()
    assert who == ["admin"]


def test_setting_a_deleted_runs_rule_needs_the_purge_it_will_make(
    sdk: Client, platform: Platform
) -> None:
    sdk.iam.create_principal("keeper")
    rules_only = {"Statement": [{"Effect": "Allow", "Action": "retention:*", "Resource": "*"}]}
    sdk.iam.put_policy("rules-only", rules_only)
    sdk.iam.attach_policy("keeper", "rules-only")
    keeper = context_for(platform, "keeper")

    with pytest.raises(errors.AccessDenied, match="tracking:PurgeRun"):
        put_rule(keeper, "deleted_runs", "exp", days=30)
    assert sdk.retention.list_rules() == []
    with pytest.raises(errors.AccessDenied):
        purge_runs(keeper, experiment="exp", reason="no")


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"kind": "bogus", "target": "ep", "days": 3}, "kind"),
        ({"kind": "captures", "target": "ep"}, "days"),
        ({"kind": "captures", "target": "ep", "days": 0}, "days"),
        ({"kind": "captures", "target": "ep", "days": 3, "keep_last": 2}, "keep_last"),
        ({"kind": "dataset_versions", "target": "d", "days": 3}, "keep_last"),
        ({"kind": "deleted_runs", "target": "exp"}, "days"),
        ({"kind": "deleted_runs", "target": "exp", "days": 3, "keep_last": 2}, "keep_last"),
        ({"kind": "captures", "target": "../x", "days": 3}, "target"),
    ],
)
def test_bad_rules_name_the_field(sdk: Client, arguments: dict[str, object], field: str) -> None:
    with pytest.raises(errors.InvalidInput) as raised:
        sdk.retention.put_rule(**arguments)  # type: ignore[arg-type]
    assert raised.value.field == field
    assert sdk.retention.list_rules() == []
