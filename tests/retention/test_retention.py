"""Retention rules applied by hand (dry run and real) and by the scheduler, on SQLite and
PostgreSQL: captures older than N days and dataset versions beyond the last K go, with
their blobs, each delete audited."""

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
from shipyard.retention._scheduled import SOURCE
from shipyard.scheduling import Scheduler
from shipyard.store.metadata import endpoint_tables
from shipyard.store.metadata import tables as t


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


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"kind": "bogus", "target": "ep", "days": 3}, "kind"),
        ({"kind": "captures", "target": "ep"}, "days"),
        ({"kind": "captures", "target": "ep", "days": 0}, "days"),
        ({"kind": "captures", "target": "ep", "days": 3, "keep_last": 2}, "keep_last"),
        ({"kind": "dataset_versions", "target": "d", "days": 3}, "keep_last"),
        ({"kind": "captures", "target": "../x", "days": 3}, "target"),
    ],
)
def test_bad_rules_name_the_field(sdk: Client, arguments: dict[str, object], field: str) -> None:
    with pytest.raises(errors.InvalidInput) as raised:
        sdk.retention.put_rule(**arguments)  # type: ignore[arg-type]
    assert raised.value.field == field
    assert sdk.retention.list_rules() == []
