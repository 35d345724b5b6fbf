"""Cost: jobs' resource records and endpoints' usage samples priced with the settings' table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.conftest import LiveServer
from tests.endpoints.dataplanekit import booster, register, rows, serving, wait_for
from tests.jobs.conftest import bc_parquet

from shipyard.api import create_app
from shipyard.client import Client, HttpTransport
from shipyard.clock import utcnow
from shipyard.config import Settings
from shipyard.cost import cost_report
from shipyard.datasets import ingest
from shipyard.endpoints import create_endpoint
from shipyard.errors import InvalidInput
from shipyard.jobs import (
    FINAL_STATUSES,
    create_training_job,
    get_training_job,
    read_training_log,
)
from shipyard.platform import Platform
from shipyard.security import ADMIN, context_for
from shipyard.serving import ServingSettings
from shipyard.store.metadata import cost_tables as ct
from shipyard.store.metadata import job_tables as j

CPU_HOUR, GB_HOUR = 3.6, 7.2


@pytest.fixture
def settings(tmp_path: Path, metadata_url: str) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=metadata_url,
        key_cache_seconds=0.2,
        price_cpu_hour=CPU_HOUR,
        price_gb_hour=GB_HOUR,
        currency="EUR",
    )


def _expected(cpu_seconds: float, memory_mb: float, seconds: float) -> float:
    return cpu_seconds / 3600 * CPU_HOUR + memory_mb / 1024 * seconds / 3600 * GB_HOUR


def test_a_finished_training_job_costs_its_record_times_the_prices(platform: Platform) -> None:
    ctx = context_for(platform, ADMIN)
    ingest(ctx, "bc", bc_parquet(), "bc.parquet")
    spec = {
        "dataset": "bc@1",
        "target": "target",
        "task": "classification",
        "estimator": "sklearn.linear_model.LogisticRegression",
        "params": {"max_iter": 200},
        "experiment": "costs",
    }
    job = create_training_job(ctx, spec)
    wait_for(lambda: get_training_job(ctx, job.id).status in FINAL_STATUSES, timeout=120)
    # the worker stores its final record, then logs it, after marking the job done
    wait_for(lambda: "resources:" in read_training_log(ctx, job.id).text)
    done = get_training_job(ctx, job.id)
    assert done.status == "succeeded", done.message
    record = done.resources
    assert record is not None and record.cpu_seconds > 0 and record.peak_memory_mb > 0

    report = cost_report(ctx, by="resource", since="1h")

    assert report.prices.currency == "EUR"
    (line,) = [line for line in report.lines if line.key.endswith(job.id)]
    assert line.key == f"sy:training-job/costs/{job.id}"
    assert line.cpu_seconds == pytest.approx(record.cpu_seconds)
    expected = _expected(record.cpu_seconds, record.peak_memory_mb, record.wall_seconds)
    assert line.cost == pytest.approx(expected, rel=1e-6)
    assert report.total == pytest.approx(sum(x.cost for x in report.lines))


def _add_job(
    platform: Platform, scope: str, principal: str, cpu: float, memory: float, wall: float
) -> str:
    import uuid

    job_id = uuid.uuid4().hex
    now = utcnow()
    with platform.db.session() as session:
        session.add(
            j.Job(
                id=job_id,
                kind="training",
                name="finished",
                scope=scope,
                status="succeeded",
                created_by=principal,
                started_at=now - timedelta(seconds=wall),
                ended_at=now,
                resources={"wall_seconds": wall, "cpu_seconds": cpu, "peak_memory_mb": memory},
            )
        )
    return job_id


@pytest.fixture
def two_teams(platform: Platform) -> Iterator[Client]:
    """Jobs of alice (experiment team-a, two jobs) and bob (team-b); alice may describe
    only team-a's training jobs."""
    admin = Client(settings=platform.settings)
    for who, team in (("alice", "team-a"), ("bob", "team-b")):
        admin.iam.create_principal(who)
        admin.iam.put_policy(
            f"{who}-policy",
            {
                "Statement": [
                    {"Effect": "Allow", "Action": "cost:GetCostReport", "Resource": "*"},
                    {
                        "Effect": "Allow",
                        "Action": "training:DescribeTrainingJob",
                        "Resource": f"sy:training-job/{team}/*",
                    },
                ]
            },
        )
        admin.iam.attach_policy(who, f"{who}-policy")
    _add_job(platform, "team-a", "alice", cpu=7200, memory=2048, wall=3600)
    _add_job(platform, "team-a", "alice", cpu=3600, memory=1024, wall=1800)
    _add_job(platform, "team-b", "bob", cpu=360, memory=512, wall=60)
    yield admin
    admin.close()


def test_grouping_by_principal(platform: Platform, two_teams: Client) -> None:
    report = two_teams.cost.report(by="principal", since="1d")
    lines = {line.key: line for line in report.lines}
    assert set(lines) == {"alice", "bob"}
    alice = lines["alice"]
    assert alice.resources == 2
    assert alice.cpu_seconds == pytest.approx(10_800)
    assert alice.gb_hours == pytest.approx(2 * 1 + 1 * 0.5)
    assert alice.cost == pytest.approx(_expected(7200, 2048, 3600) + _expected(3600, 1024, 1800))
    assert lines["bob"].cost == pytest.approx(_expected(360, 512, 60))
    assert report.lines[0].key == "alice"  # most expensive first


def test_a_principal_sees_only_the_cost_of_what_it_may_describe(
    platform: Platform, two_teams: Client
) -> None:
    live = LiveServer(create_app(platform))
    try:
        alice_key = two_teams.iam.create_api_key("alice").token
        assert alice_key is not None
        alice = Client(transport=HttpTransport(live.url, alice_key))
        report = alice.cost.report(by="principal", since="1d")
        assert [line.key for line in report.lines] == ["alice"]
        assert report.lines[0].resources == 2
        by_resource = alice.cost.report(since="1d")
        assert all(line.key.startswith("sy:training-job/team-a/") for line in by_resource.lines)
        with pytest.raises(InvalidInput, match="by"):
            alice.cost.report(by="team")
        with pytest.raises(InvalidInput, match="since"):
            alice.cost.report(since="last week")
        alice.close()
    finally:
        live.close()


def test_a_served_endpoint_samples_its_use_and_is_priced_by_it(platform: Platform) -> None:
    register(platform, booster(5))
    ctx = context_for(platform, ADMIN)
    create_endpoint(ctx, "priced", model="bc-model@1")
    quick = ServingSettings(poll_seconds=0.05, report_seconds=0.2, usage_seconds=0.1)

    def samples() -> list[ct.EndpointUsageSample]:
        with platform.db.session() as session:
            found = session.scalars(
                sa.select(ct.EndpointUsageSample).where(ct.EndpointUsageSample.endpoint == "priced")
            ).all()
            session.expunge_all()
            return list(found)

    with serving(platform, "priced", quick) as served, served.client() as http:
        for start in range(0, 40, 4):
            answer = http.post("/invocations", json={"instances": rows(4, start)})
            assert answer.status_code == 200, answer.text
        wait_for(lambda: len(samples()) >= 3)
    taken = samples()
    assert all(s.memory_mb > 0 and s.interval_seconds > 0 for s in taken)
    assert sum(s.cpu_seconds for s in taken) > 0

    report = cost_report(ctx, by="resource", since="1h")
    (line,) = [line for line in report.lines if line.key == "sy:endpoint/priced"]
    taken = samples()  # the worker's last sample is written when it stops
    cpu = sum(s.cpu_seconds for s in taken)
    memory_cost = sum(s.memory_mb / 1024 * s.interval_seconds / 3600 for s in taken) * GB_HOUR
    assert line.cpu_seconds == pytest.approx(cpu, abs=1e-3)
    assert line.cost == pytest.approx(cpu / 3600 * CPU_HOUR + memory_cost, rel=1e-6)
    by_principal = cost_report(ctx, by="principal", since="1h")
    assert [line.key for line in by_principal.lines] == [ADMIN]


def test_the_cli_prints_the_table_and_json(
    platform: Platform, two_teams: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from shipyard.cli._context import STATE
    from shipyard.cli._main import app

    monkeypatch.setattr(STATE, "_client", two_teams)
    runner = CliRunner()
    shown = runner.invoke(app, ["cost", "--by", "principal", "--since", "1d"])
    assert shown.exit_code == 0, shown.output
    assert "alice" in shown.output and "bob" in shown.output and "EUR" in shown.output
    as_json = runner.invoke(app, ["cost", "--by", "principal", "--json"])
    assert as_json.exit_code == 0
    assert '"by": "principal"' in as_json.output
