"""Structured logs: JSON lines under <home>/logs, with request and job ids, never secrets."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from tests.conftest import LiveServer
from tests.endpoints.dataplanekit import booster, register, rows, serving, wait_for
from tests.jobs.conftest import bc_parquet
from typer.testing import CliRunner

from shipyard.api import create_app
from shipyard.cli._context import STATE
from shipyard.cli._main import app
from shipyard.clock import utcnow
from shipyard.config import Settings
from shipyard.datasets import ingest
from shipyard.errors import InvalidInput
from shipyard.jobs import FINAL_STATUSES, create_training_job, get_training_job, read_training_log
from shipyard.logs import (
    LogFilter,
    configure_logging,
    log_context,
    log_file,
    mask_secrets,
    read_logs,
    stop_logging,
)
from shipyard.platform import Platform
from shipyard.security import ADMIN, context_for, issue_admin_key_if_none


@pytest.fixture
def metadata_url(tmp_path: Path) -> str:
    """Logs do not depend on the metadata backend: SQLite only."""
    return f"sqlite:///{tmp_path / 'home' / 'shipyard.db'}"


@pytest.fixture
def server_logs(settings: Settings) -> Iterator[Path]:
    configure_logging(settings, "server")
    yield log_file(settings, "server")
    stop_logging()


def _lines(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(raw) for raw in path.read_bytes().splitlines()]


def test_the_control_plane_logs_requests_with_their_ids_and_never_secrets(
    platform: Platform, server_logs: Path
) -> None:
    key = issue_admin_key_if_none(platform)
    assert key is not None
    webhook_secret = "whsec-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    live = LiveServer(create_app(platform))
    try:
        headers = {"Authorization": f"Bearer {key.token}", "x-request-id": "req-logs-1"}
        with httpx.Client(base_url=live.url, headers=headers, timeout=30) as http:
            created = http.post("/api/v1/principals", json={"name": "bob"})
            assert created.status_code == 201, created.text
            refused = http.post(
                "/api/v1/principals",
                json={"name": "eve", "webhook": {"url": "http://x", "secret": webhook_secret}},
                headers={"x-request-id": "req-logs-2"},
            )
            assert refused.status_code == 400
            wrong = http.get(
                f"/api/v1/cost?token={webhook_secret}",
                headers={"Authorization": f"Bearer {key.token}x", "x-request-id": "req-logs-3"},
            )
            assert wrong.status_code == 401
            anonymous = http.get("/api/v1/principals", headers={"x-request-id": ""})
            assert anonymous.headers["x-request-id"]  # one was made for it
    finally:
        live.close()
    text = server_logs.read_text()
    assert key.token not in text and key.secret not in text
    assert webhook_secret not in text
    lines = _lines(server_logs)
    first = [line for line in lines if line.get("request_id") == "req-logs-1"]
    assert {"shipyard.api.access", "shipyard.operations"} <= {line["logger"] for line in first}
    (operation,) = [line for line in first if line["logger"] == "shipyard.operations"]
    assert operation["resource"] == "sy:principal/bob"
    assert operation["principal"] == ADMIN and operation["level"] == "INFO"
    assert operation["component"] == "server"
    (access,) = [line for line in first if line["logger"] == "shipyard.api.access"]
    assert str(access["message"]).startswith("POST /api/v1/principals 201")
    assert any(line.get("request_id") == "req-logs-3" for line in lines)


def test_messages_are_masked() -> None:
    token = "sy_0123456789abcdef_" + "A" * 43
    masked = mask_secrets(
        f"called with {token}; Authorization: Bearer abc.def, secret=s3cr3t, "
        '{"api_key": "k-123", "password":"pw"} token=t0k'
    )
    for secret in (token, "abc.def", "s3cr3t", "k-123", '"pw"', "t0k"):
        assert secret not in masked
    assert masked.count("***") == 6


def test_logs_filter_by_resource_level_and_time(settings: Settings, server_logs: Path) -> None:
    logger = logging.getLogger("shipyard.tests")
    with log_context(resource="sy:endpoint/churn", request_id="r1"):
        logger.info("churn served")
        logger.warning("churn slow")
    with log_context(resource="sy:training-job/exp/abc123"):
        logger.error("job failed")
    logger.debug("below the level")  # settings.log_level is INFO
    old = {
        "time": (utcnow() - timedelta(days=2)).isoformat(),
        "level": "ERROR",
        "component": "server",
        "logger": "shipyard.tests",
        "message": "long ago",
        "resource": "sy:endpoint/churn",
    }
    with server_logs.open("ab") as handle:
        handle.write(orjson.dumps(old) + b"\n")

    def messages(**which: object) -> list[str]:
        return [str(line["message"]) for line in read_logs(settings, LogFilter(**which))]  # type: ignore[arg-type]

    assert messages(resource="sy:endpoint/churn") == ["long ago", "churn served", "churn slow"]
    assert messages(resource="sy:endpoint/churn", level="WARNING") == ["long ago", "churn slow"]
    assert messages(level="ERROR", since=utcnow() - timedelta(hours=1)) == ["job failed"]
    assert messages(resource="sy:training-job/abc123") == ["job failed"]
    assert messages(resource="sy:endpoint/*", since=utcnow() - timedelta(hours=1)) == [
        "churn served",
        "churn slow",
    ]
    assert "below the level" not in messages()
    with pytest.raises(InvalidInput, match="level"):
        LogFilter(level="loud")

    runner = CliRunner()
    STATE._settings, saved = settings, STATE._settings
    try:
        shown = runner.invoke(
            app, ["logs", "--resource", "sy:endpoint/churn", "--level", "warning", "--since", "1h"]
        )
        assert shown.exit_code == 0, shown.output
        assert "churn slow" in shown.output and "long ago" not in shown.output
        assert "churn served" not in shown.output
        as_json = runner.invoke(
            app, ["logs", "--component", "server", "--json", "--level", "error"]
        )
        assert [orjson.loads(x)["message"] for x in as_json.output.splitlines()] == [
            "long ago",
            "job failed",
        ]
        bad = runner.invoke(app, ["logs", "--component", "kitchen"])
        assert bad.exit_code != 0
    finally:
        STATE._settings = saved


def test_a_job_writes_json_lines_with_its_id_and_keeps_its_text_log(
    platform: Platform,
) -> None:
    ctx = context_for(platform, ADMIN)
    ingest(ctx, "bc", bc_parquet(), "bc.parquet")
    spec = {
        "dataset": "bc@1",
        "target": "target",
        "task": "classification",
        "estimator": "sklearn.linear_model.LogisticRegression",
        "params": {"max_iter": 200},
        "experiment": "logged",
    }
    job = create_training_job(ctx, spec)
    wait_for(lambda: get_training_job(ctx, job.id).status in FINAL_STATUSES, timeout=120)
    wait_for(lambda: "resources:" in read_training_log(ctx, job.id).text)
    assert get_training_job(ctx, job.id).status == "succeeded"
    lines = read_logs(platform.settings, LogFilter(resource=f"sy:training-job/{job.id}"), ("jobs",))
    assert lines and all(line["job_id"] == job.id for line in lines)
    assert {line["resource"] for line in lines} == {f"sy:training-job/logged/{job.id}"}
    assert any(str(line["message"]).startswith("resources:") for line in lines)


def test_a_serving_worker_logs_to_the_serving_file_with_its_endpoint(
    settings: Settings, platform: Platform
) -> None:
    from shipyard.endpoints import create_endpoint

    register(platform, booster(3))
    create_endpoint(context_for(platform, ADMIN), "logged", model="bc-model@1")
    configure_logging(settings, "serving", resource="sy:endpoint/logged")
    try:
        with serving(platform, "logged") as served, served.client() as http:
            assert http.post("/invocations", json={"instances": rows(1)}).status_code == 200
    finally:
        stop_logging()
    lines = read_logs(settings, LogFilter(resource="sy:endpoint/logged"), ("serving",))
    assert any("started: endpoint logged" in str(line["message"]) for line in lines)
    assert all(line["component"] == "serving" for line in lines)


def test_follow_yields_lines_written_after_it_started(
    settings: Settings, server_logs: Path
) -> None:
    import threading

    from shipyard.logs import follow_logs

    logging.getLogger("shipyard.tests").warning("before following")
    seen: list[str] = []
    done = threading.Event()

    def follow() -> None:
        which = LogFilter(level="WARNING")
        for line in follow_logs(settings, which, ("server",), poll_seconds=0.02, stop=done.is_set):
            seen.append(str(line["message"]))

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    wait_for(lambda: server_logs.stat().st_size > 0)
    try:
        for attempt in range(200):  # until the follower has taken its starting offset
            logging.getLogger("shipyard.tests").warning("new %d", attempt)
            if seen:
                break
            threading.Event().wait(0.02)
        logging.getLogger("shipyard.tests").info("too low")
        logging.getLogger("shipyard.tests").error("last")
        wait_for(lambda: "last" in seen)
    finally:
        done.set()
        thread.join(timeout=5)
    assert "before following" not in seen and "too low" not in seen
    assert seen[0].startswith("new ")
