"""Registration refuses a run whose model would not load, and is idempotent under retry."""

from __future__ import annotations

import pickle
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from tests.conftest import LiveServer
from tests.endpoints.dataplanekit import booster, signature

from shipyard.client import Client, HttpTransport
from shipyard.errors import Conflict, InvalidInput, NotFound, UnsafeArtifact
from shipyard.flavors import artifact_digest, save_model
from shipyard.platform import Platform
from shipyard.registry import MODEL_ARTIFACT, MODEL_META
from shipyard.store.metadata import tables as t


def _run_with(client: Client, tmp_path: Path, model: bytes | None, meta: bytes | None) -> str:
    """A finished run holding the given model bytes and meta document."""
    with client.start_run(experiment="register-checks") as run:
        for path, data in ((MODEL_ARTIFACT, model), (MODEL_META, meta)):
            if data is not None:
                local = tmp_path / path.replace("/", "-")
                local.write_bytes(data)
                run.log_artifact(local, name=path)
    return run.id


def _meta(**overrides: Any) -> bytes:
    document: dict[str, Any] = {
        "flavor": "lightgbm",
        "signature": signature().model_dump(mode="json"),
    }
    document.update(overrides)
    return orjson.dumps({k: v for k, v in document.items() if v is not None})


def _good_model() -> bytes:
    return save_model(booster(3))[1]


BAD_RUNS: list[tuple[str, bytes | None, bytes | None, type[Exception], str]] = [
    ("meta not JSON", _good_model(), b"{flavor: lightgbm", InvalidInput, "is not JSON"),
    ("meta not an object", _good_model(), b"[1, 2]", InvalidInput, "JSON object"),
    ("meta without flavor", _good_model(), _meta(flavor=None), InvalidInput, "'flavor'"),
    ("meta without signature", _good_model(), _meta(signature=None), InvalidInput, "signature"),
    (
        "invalid signature",
        _good_model(),
        _meta(signature={"inputs": [{"name": "x", "type": "tensor"}], "task": "x"}),
        InvalidInput,
        "signature",
    ),
    ("unknown flavor", _good_model(), _meta(flavor="pytorch"), InvalidInput, "pytorch"),
    ("wrong digest", _good_model(), _meta(digest="sha256:00"), InvalidInput, "digest"),
    ("not the declared format", b"not a model", _meta(), InvalidInput, "does not load"),
    ("another flavor's bytes", _good_model(), _meta(flavor="xgboost"), InvalidInput, "xgboost"),
    ("a pickle", pickle.dumps({"a": 1}), _meta(), UnsafeArtifact, "pickle"),
    ("no meta", _good_model(), None, NotFound, MODEL_META),
    ("no model", None, _meta(), NotFound, MODEL_ARTIFACT),
]


def test_a_run_whose_model_would_not_load_is_refused_and_nothing_is_stored(
    client: Client, tmp_path: Path
) -> None:
    for label, model, meta, error, words in BAD_RUNS:
        run_id = _run_with(client, tmp_path, model, meta)
        with pytest.raises(error) as refused:
            client.models.register("checked", run_id)
        assert words in refused.value.message, label
        if error is InvalidInput:
            assert refused.value.field == "run_id", label
    assert client.models.list() == []
    good = _run_with(client, tmp_path, _good_model(), _meta(digest=artifact_digest(_good_model())))
    assert client.models.register("checked", good).version == 1


def test_a_client_token_makes_registration_idempotent(client: Client, tmp_path: Path) -> None:
    first = _run_with(client, tmp_path, _good_model(), _meta())
    second = _run_with(client, tmp_path, _good_model(), _meta())
    v1 = client.models.register("idem", first, client_token="token-1")
    again = client.models.register("idem", first, client_token="token-1")
    assert (v1.version, again.version) == (1, 1)
    assert again.created_at == v1.created_at
    with pytest.raises(Conflict) as reused:
        client.models.register("idem", second, client_token="token-1")
    assert reused.value.field == "client_token"
    with pytest.raises(InvalidInput) as malformed:
        client.models.register("idem", second, client_token="no spaces please")
    assert malformed.value.field == "client_token"
    # the token is per model, and a call without one of its own still makes a new version
    assert client.models.register("other", first, client_token="token-1").version == 1
    assert client.models.register("idem", first).version == 2
    assert client.models.register("idem", first).version == 3
    assert client.models.get("idem").latest_version == 3


class DropFirstResponse:
    """A TCP proxy to ``target`` that forwards the first request, then closes the client's
    connection without sending the answer (a response lost on the way back)."""

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("http://").split(":")
        self.target = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.forwarded = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                downstream, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(downstream,), daemon=True).start()

    def _relay(self, downstream: socket.socket) -> None:
        with downstream, socket.create_connection(self.target) as upstream:
            drop = self.forwarded == 0
            self.forwarded += 1
            request = _read_request(downstream)
            upstream.sendall(request)
            answer = _read_until_closed(upstream)
            if not drop:
                downstream.sendall(answer)

    def close(self) -> None:
        self.listener.close()


def _read_request(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        body += sock.recv(65536)
    head = head.replace(b"keep-alive", b"close")
    return head + b"\r\nConnection: close\r\n\r\n" + body


def _read_until_closed(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture
def lossy(api_server: LiveServer) -> Iterator[DropFirstResponse]:
    proxy = DropFirstResponse(api_server.url)
    yield proxy
    proxy.close()


def test_a_retry_after_a_lost_response_returns_the_version_already_made(
    platform: Platform, admin_key: str, lossy: DropFirstResponse, tmp_path: Path
) -> None:
    with Client(settings=platform.settings) as local:
        run_id = _run_with(local, tmp_path, _good_model(), _meta())
    remote = Client(transport=HttpTransport(lossy.url, admin_key))
    try:
        version = remote.models.register("lossy", run_id)
    finally:
        remote.close()
    assert lossy.forwarded == 2  # the first answer was lost; the SDK asked again
    assert version.version == 1
    with platform.db.session() as session:
        count = session.scalar(sa.select(sa.func.count()).select_from(t.ModelVersion))
    assert count == 1


def test_the_rest_api_returns_the_same_version_for_a_repeated_token(
    api_server: LiveServer, admin_key: str, platform: Platform, tmp_path: Path
) -> None:
    with Client(settings=platform.settings) as local:
        run_id = _run_with(local, tmp_path, _good_model(), _meta())
    headers = {"Authorization": f"Bearer {admin_key}"}
    body = {"run_id": run_id, "client_token": "retry-me"}
    with httpx.Client(base_url=api_server.url, headers=headers) as http:
        answers = [http.post("/api/v1/models/rest/versions", json=body) for _ in range(3)]
        assert [a.status_code for a in answers] == [201, 201, 201]
        assert {a.json()["version"] for a in answers} == {1}
        assert http.get("/api/v1/models/rest").json()["latest_version"] == 1


def test_migration_0111_adds_the_token_column_and_its_unique_index(
    empty_metadata_url: str,
) -> None:
    """A database made before 0111 (upgraded only that far) gains the column and the index."""
    from alembic import command
    from alembic.config import Config

    from shipyard.store.metadata import Database

    db = Database(empty_metadata_url)
    config = Config()
    config.set_main_option("script_location", str(Path(t.__file__).parent / "migrations"))

    def token_parts() -> tuple[bool, bool]:
        with db.engine.connect() as connection:
            inspector = sa.inspect(connection)
            columns = {c["name"] for c in inspector.get_columns("model_versions")}
            indexes = {i["name"]: i for i in inspector.get_indexes("model_versions")}
        index = indexes.get("ux_model_versions_client_token")
        unique = bool(
            index and index["unique"] and index["column_names"] == ["model_id", "client_token"]
        )
        return "client_token" in columns, unique

    if db.is_sqlite and db.engine.url.database:
        Path(db.engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0110_feature_source_indexes")
    assert token_parts() == (False, False)
    db.upgrade()
    assert token_parts() == (True, True)
    db.dispose()
