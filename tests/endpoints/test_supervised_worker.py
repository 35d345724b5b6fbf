"""A serving worker that holds no platform: its control link, key cache and limits go through
the supervisor's socket (``ServingSupervisor``), on SQLite and PostgreSQL.

The worker's app is built here as ``ServingWorkerFactory`` builds it, minus hiding files
from itself (that would change this test process's mount namespace; the acceptance test
``test_worker_privileges`` covers it in real worker processes).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from dataplanekit import admin_token, register_three, rows, wait_for
from tests.conftest import LiveServer

from shipyard.client import Client
from shipyard.config import Settings
from shipyard.endpoints._supervisor import (
    ServingSupervisor,
    scrubbed,
    scrubbed_environment,
    worker_settings,
)
from shipyard.errors import InvalidInput, NotFound, Unauthenticated
from shipyard.platform import Platform
from shipyard.security import CachedKeyAuthorizer, RequestLimiter
from shipyard.serving import (
    ServingApp,
    ServingSettings,
    SocketKeySource,
    SocketLimitSource,
    SocketLink,
    SupervisorConnection,
    read_captures,
)
from shipyard.store.metadata import tables as t


@pytest.fixture
def supervised(
    platform: Platform, settings: Settings
) -> Iterator[tuple[ServingSupervisor, Client]]:
    register_three(platform)
    client = Client(settings=settings)
    client.endpoints.create(
        "sup",
        variants=[{"name": "blue", "model": "bc-model@1"}],
        capture={"enabled": True, "sampling_percent": 100, "mode": "both"},
    )
    supervisor = ServingSupervisor(platform, "sup", url="http://worker").start()
    try:
        yield supervisor, client
    finally:
        supervisor.stop()
        client.close()


def _worker(supervisor: ServingSupervisor) -> tuple[ServingApp, CachedKeyAuthorizer]:
    connection = SupervisorConnection(supervisor.socket_path)
    serving = ServingSettings(poll_seconds=0.05, report_seconds=0.2, capture_flush_seconds=0.1)
    link = SocketLink(connection)
    authorizer = CachedKeyAuthorizer(SocketKeySource(connection), poll_seconds=0.05)
    authorizer.start()
    limiter = RequestLimiter(SocketLimitSource(connection), share=2)
    app = ServingApp("sup", link.load(None), authorizer, serving, link=link, limiter=limiter)
    return app, authorizer


def test_a_worker_serves_reports_captures_and_leaves_through_the_socket(
    platform: Platform, supervised: tuple[ServingSupervisor, Client]
) -> None:
    supervisor, client = supervised
    token = admin_token(platform)
    app, authorizer = _worker(supervisor)
    live = LiveServer(app)
    try:
        with httpx.Client(base_url=live.url, timeout=30) as http:
            headers = {"Authorization": f"Bearer {token}"}
            for i in range(5):
                answer = http.post("/invocations", json={"instances": rows(1, i)}, headers=headers)
                assert answer.status_code == 200
                assert answer.headers["x-shipyard-variant"] == "blue"
            request_id = answer.headers["x-request-id"]
            answer = http.post(
                "/feedback", json=[{"request_id": request_id, "label": 1}], headers=headers
            )
            assert answer.status_code == 202
            denied = http.post("/invocations", json={"instances": rows(1)})
            assert denied.status_code == 401
            wait_for(lambda: len(client.endpoints.get("sup").instances) == 1)
            assert client.endpoints.get("sup").instances[0].url == "http://worker"
            wait_for(lambda: read_captures(platform, "sup").num_rows == 5)
            info = client.endpoints.add_variant("sup", "green", "bc-model@2", weight=1)
            wait_for(lambda: app.config.generation == info.generation)
            assert {v.slot.model_version for v in app.config.variants} == {"1", "2"}
    finally:
        live.close()
        authorizer.stop()
    assert client.endpoints.get("sup").instances == []  # it left on a clean shutdown
    with platform.db.session() as session:
        outcomes = set(
            session.scalars(
                sa.select(t.AuditEvent.outcome).where(t.AuditEvent.resource.like("%sup"))
            )
        )
        labels = session.scalar(sa.text("select count(*) from feedback"))
    assert "denied" in outcomes or "unauthenticated" in outcomes
    assert labels == 1


def test_the_key_cache_copy_follows_a_revocation_and_holds_no_secret(
    platform: Platform, supervised: tuple[ServingSupervisor, Client]
) -> None:
    supervisor, client = supervised
    key = client.iam.create_api_key("admin")
    source = SocketKeySource(SupervisorConnection(supervisor.socket_path))
    snapshot = source.snapshot()
    held = snapshot.to_wire()
    assert key.token not in str(held) and key.token.split("_")[-1] not in str(held)
    authorizer = CachedKeyAuthorizer(source, refresh_seconds=0, poll_seconds=0)
    assert authorizer.authorize(
        f"Bearer {key.token}", "endpoints:InvokeEndpoint", "sy:endpoint/sup"
    )
    client.iam.revoke_api_key(key.key_id)
    assert source.generation() != snapshot.generation
    authorizer.reload()
    with pytest.raises(Unauthenticated, match="not valid"):  # looked up: gone
        authorizer.resolve(f"Bearer {key.token}", "endpoints:InvokeEndpoint", "sy:endpoint/sup")


def test_models_lie_on_a_private_read_only_shelf(
    supervised: tuple[ServingSupervisor, Client],
) -> None:
    supervisor, _ = supervised
    assert stat.S_IMODE(supervisor.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(supervisor.socket_path.stat().st_mode) == 0o600
    answer = SupervisorConnection(supervisor.socket_path).call("load")
    (path,) = answer["models"].values()
    model = Path(path)
    assert stat.S_IMODE(model.stat().st_mode) == 0o500
    assert {stat.S_IMODE(f.stat().st_mode) for f in model.iterdir()} == {0o400}


def test_a_bad_request_is_refused_by_name_and_the_socket_keeps_answering(
    supervised: tuple[ServingSupervisor, Client],
) -> None:
    supervisor, client = supervised
    connection = SupervisorConnection(supervisor.socket_path)
    with pytest.raises(InvalidInput, match="unknown operation"):
        connection.call("drop_tables")
    with pytest.raises(InvalidInput, match="malformed"):
        connection.call("report", status={"worker": "w"})
    assert connection.call("generation") == client.endpoints.get("sup").generation
    client.endpoints.delete("sup")
    with pytest.raises(NotFound, match="sup"):
        connection.call("load")


def test_workers_get_no_credentials_in_their_environment_or_settings(tmp_path: Path) -> None:
    environ = {
        "PATH": "/usr/bin",
        "SHIPYARD_DATABASE_URL": "postgresql://u:secret@db/x",
        "AWS_SECRET_ACCESS_KEY": "s3cret",
        "PGPASSWORD": "pw",
        "APP_DATABASE_URL": "postgresql://u:secret@db/y",
        "LANG": "C.UTF-8",
    }
    assert scrubbed(environ) == {"PATH": "/usr/bin", "LANG": "C.UTF-8"}
    settings = Settings(
        home=tmp_path,
        database_url="postgresql+psycopg://u:secret@db/x",
        blob_url="s3://bucket/blobs",
        blob_storage_options={"key": "k", "secret": "s"},
        api_key="sy_abc_def",
    )
    stripped = worker_settings(settings)
    assert "secret" not in stripped.model_dump_json()
    assert stripped.database_url is None and stripped.blob_url is None
    assert stripped.api_key is None
    assert not any(k.startswith("SHIPYARD_") for k in scrubbed(dict(os.environ)))


def test_the_supervisor_keeps_its_libpq_environment_while_workers_start_without_it(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Workers are started with no PG* variables; a connection the supervisor opens
    # meanwhile (its pool grows, one is replaced) still gets what libpq read from them.
    monkeypatch.setenv("PGAPPNAME", "shipyard-supervisor")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-for-workers")
    postgres = platform.db.engine.dialect.name == "postgresql"
    with scrubbed_environment(platform):
        assert "PGAPPNAME" not in os.environ and "AWS_SECRET_ACCESS_KEY" not in os.environ
        platform.db.engine.dispose()  # the next connection is a new one
        with platform.db.engine.connect() as connection:
            if postgres:
                name = connection.execute(sa.text("SHOW application_name")).scalar()
                assert name == "shipyard-supervisor"
    assert os.environ["PGAPPNAME"] == "shipyard-supervisor"
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == "not-for-workers"
