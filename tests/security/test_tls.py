"""TLS and mutual TLS, end to end: development certificates, both servers over HTTPS with
the dev CA, the SDK and CLI as clients, client certificates as service principals."""

from __future__ import annotations

import ssl
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import numpy as np
import pytest
import sqlalchemy as sa
import uvicorn
from cryptography import x509
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from tests.cli.inprocess import reset_state
from tests.conftest import POSTGRES_URL, S3_CREDENTIALS
from werkzeug.serving import make_server

from shipyard.api import create_app
from shipyard.cli._context import STATE
from shipyard.cli._main import main
from shipyard.cli._servers import bound_port, start_in_thread, uvicorn_server
from shipyard.client import Client
from shipyard.config import Settings, load_settings
from shipyard.errors import AccessDenied, InvalidInput, StorageError, Unauthenticated
from shipyard.flavors import ColumnSpec, ModelSignature, Prediction, Predictor
from shipyard.platform import Platform
from shipyard.security import CachedKeyAuthorizer, bootstrap, issue_admin_key_if_none
from shipyard.serving import create_serving_app
from shipyard.store.blobs import open_blob_store
from shipyard.tls._dev import make_ca, make_client_cert, make_server_cert
from shipyard.tls._server import ServerTLS, TLSH11Protocol, tls_protocol_class

ROBOT_POLICY = {
    "Version": "2025-01-01",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["iam:ListPrincipals", "endpoints:Invoke"],
            "Resource": ["*"],
        }
    ],
}


class Certs:
    def __init__(self, root: Path) -> None:
        self.dir = root / "dev"
        self.ca = make_ca(self.dir).cert
        self.server = make_server_cert(self.dir, ["localhost", "127.0.0.1"])
        self.robot = make_client_cert(self.dir, "robot")
        self.ghost = make_client_cert(self.dir, "ghost")
        self.rogue_dir = root / "rogue"
        make_ca(self.rogue_dir)
        self.rogue_robot = make_client_cert(self.rogue_dir, "robot")

    def tls(self, *, mutual: bool = True) -> ServerTLS:
        return ServerTLS(self.server.cert, self.server.key, self.ca if mutual else None)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return Certs(tmp_path_factory.mktemp("certs"))


class Running:
    """A server the way the CLI builds it, in a thread on a free 127.0.0.1 port."""

    def __init__(self, app: Any, tls: ServerTLS | None) -> None:
        self.server = uvicorn_server(app, "127.0.0.1", 0, tls)
        self.thread = start_in_thread(self.server)
        self.url = f"https://127.0.0.1:{bound_port(self.server)}"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def tls_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """One SQLite installation for the module: its migrations are most of a test's cost."""
    home = tmp_path_factory.mktemp("tls") / "home"
    opened = Platform.open(Settings(home=home, key_cache_seconds=0.2))
    bootstrap(opened)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def admin_token(tls_platform: Platform) -> str:
    key = issue_admin_key_if_none(tls_platform)
    assert key is not None
    return key.token


@pytest.fixture(scope="module")
def control_plane(tls_platform: Platform, certs: Certs) -> Iterator[Running]:
    running = Running(create_app(tls_platform), certs.tls())
    yield running
    running.close()


@pytest.fixture(scope="module")
def robot(tls_platform: Platform) -> str:
    """Service principal ``robot`` may list principals and invoke endpoints; ``ghost`` is a
    user (a person) with the same policy, whom no certificate may name."""
    admin = Client(settings=tls_platform.settings)
    admin.iam.create_principal("robot", "service")
    admin.iam.put_policy("robot-policy", ROBOT_POLICY)
    admin.iam.attach_policy("robot", "robot-policy")
    admin.iam.create_principal("ghost", "user")
    admin.iam.attach_policy("ghost", "robot-policy")
    admin.close()
    return "robot"


def test_certs_dev_makes_a_ca_server_and_client_certificates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = tmp_path / "tls"
    assert main(["certs", "dev", "--dir", str(where), "--hosts", "localhost,127.0.0.1"]) == 0
    out = capsys.readouterr().out
    assert "--tls-cert" in out and str(where / "server.pem") in out
    for key in ("ca-key.pem", "server-key.pem"):
        assert stat.S_IMODE((where / key).stat().st_mode) == 0o600
    server = x509.load_pem_x509_certificate((where / "server.pem").read_bytes())
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(a) for a in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]

    ca_before = (where / "ca.pem").read_bytes()
    assert main(["certs", "dev", "--dir", str(where)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert (where / "ca.pem").read_bytes() == ca_before

    assert main(["certs", "dev", "--dir", str(where), "--client", "robot"]) == 0
    client = x509.load_pem_x509_certificate((where / "client-robot.pem").read_bytes())
    uris = client.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert uris.get_values_for_type(x509.UniformResourceIdentifier) == ["sy:principal/robot"]
    assert stat.S_IMODE((where / "client-robot-key.pem").stat().st_mode) == 0o600

    assert main(["certs", "dev", "--dir", str(where), "--hosts", "bad host!"]) == 1
    assert "hosts" in capsys.readouterr().err
    assert main(["certs", "dev", "--dir", str(where), "--force"]) == 0
    assert (where / "ca.pem").read_bytes() != ca_before


def _cli(*args: str) -> int:
    try:
        return main(list(args))
    finally:
        if STATE._client is not None:
            STATE._client.close()
        reset_state()  # every field, so nothing leaks into the next command


def test_sdk_and_cli_over_https_and_untrusted_or_plain_refused(
    control_plane: Running,
    certs: Certs,
    admin_token: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Client(control_plane.url, api_key=admin_token, ca_bundle=certs.ca) as sdk:
        assert "admin" in [p.name for p in sdk.iam.list_principals()]

    monkeypatch.delenv("SHIPYARD_URL", raising=False)
    url, ca = control_plane.url, str(certs.ca)
    assert (
        _cli("--url", url, "--api-key", admin_token, "--ca-bundle", ca, "principals", "list") == 0
    )
    assert "admin" in capsys.readouterr().out

    # The system's CAs do not know the dev CA: the client refuses the server.
    with (
        Client(control_plane.url, api_key=admin_token) as untrusting,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        untrusting.iam.list_principals()
    assert _cli("--url", url, "--api-key", admin_token, "principals", "list") == 1
    assert "CERTIFICATE_VERIFY_FAILED" in capsys.readouterr().err

    # Plain HTTP to the TLS port gets no answer, and the server keeps serving.
    with pytest.raises(httpx.TransportError):
        httpx.get(url.replace("https:", "http:") + "/healthz", timeout=10)
    assert httpx.get(url + "/healthz", verify=ssl.create_default_context(cafile=ca)).is_success


def test_mutual_tls_maps_a_certificate_to_its_service_principal(
    control_plane: Running, certs: Certs, robot: str
) -> None:
    url, ca = control_plane.url, certs.ca
    with Client(url, ca_bundle=ca, client_cert=(certs.robot.cert, certs.robot.key)) as robot:
        assert "robot" in [p.name for p in robot.iam.list_principals()]
        with pytest.raises(AccessDenied, match="robot is not allowed to iam:PutPolicy"):
            robot.iam.put_policy("mine", ROBOT_POLICY)

    ghost_cert = (certs.ghost.cert, certs.ghost.key)
    with (
        Client(url, ca_bundle=ca, client_cert=ghost_cert) as ghost,
        pytest.raises(Unauthenticated, match="no enabled service principal"),
    ):
        ghost.iam.list_principals()

    # Signed by another CA: the handshake fails, no request is answered.
    rogue_cert = (certs.rogue_robot.cert, certs.rogue_robot.key)
    with (
        Client(url, ca_bundle=ca, client_cert=rogue_cert) as rogue,
        pytest.raises(httpx.TransportError),
    ):
        rogue.iam.list_principals()


def test_require_tls_refuses_to_start_without_a_certificate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path / "home"))
    assert _cli("server", "--require-tls") == 1
    assert "TLS is required" in capsys.readouterr().err
    assert _cli("serve", "churn", "--tls-cert", str(tmp_path / "missing.pem")) == 1
    assert "give both --tls-cert and --tls-key" in capsys.readouterr().err
    with pytest.raises(InvalidInput, match="cannot load the certificate") as bad:
        ServerTLS(tmp_path / "missing.pem", tmp_path / "missing-key.pem").context()
    assert bad.value.field == "tls_cert"
    url = "https://127.0.0.1:9/"
    assert _cli("--url", url, "--client-cert", "c.pem", "principals", "list") == 1
    assert "give both --client-cert and --client-key" in capsys.readouterr().err
    assert _cli("--url", url, "--ca-bundle", str(tmp_path / "no-ca.pem"), "principals", "list") == 1
    assert "error: ca_bundle: cannot load the CA bundle" in capsys.readouterr().err


def test_tls_settings_come_from_the_environment(certs: Certs, tmp_path: Path) -> None:
    environ = {
        "SHIPYARD_HOME": str(tmp_path),
        "SHIPYARD_TLS_CERT": str(certs.server.cert),
        "SHIPYARD_TLS_KEY": str(certs.server.key),
        "SHIPYARD_TLS_CLIENT_CA": str(certs.ca),
    }
    tls = ServerTLS.from_settings(load_settings(environ))
    assert tls == ServerTLS(certs.server.cert, certs.server.key, certs.ca)
    assert tls.context().verify_mode == ssl.CERT_OPTIONAL
    plain = load_settings({"SHIPYARD_HOME": str(tmp_path), "SHIPYARD_REQUIRE_TLS": "true"})
    with pytest.raises(InvalidInput, match="TLS is required"):
        ServerTLS.from_settings(plain)


async def _echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    tls = scope.get("extensions", {}).get("tls", {})
    body = f"{scope['scheme']} {tls.get('client_principal')} {tls.get('tls_version')}"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body.encode()})


@pytest.mark.parametrize("protocol", [tls_protocol_class(), TLSH11Protocol])
def test_the_scope_says_https_and_carries_the_client_principal(
    certs: Certs, protocol: type[Any]
) -> None:
    options = certs.tls().uvicorn_options() | {"http": protocol}
    config = uvicorn.Config(_echo, host="127.0.0.1", port=0, log_level="warning", **options)
    server = uvicorn.Server(config)
    thread = start_in_thread(server)
    try:
        url = f"https://127.0.0.1:{bound_port(server)}/"
        verify = ssl.create_default_context(cafile=str(certs.ca))
        assert httpx.get(url, verify=verify).text == "https None 772"
        verify.load_cert_chain(certs.robot.cert, certs.robot.key)
        with httpx.Client(verify=verify) as keep_alive:
            assert [keep_alive.get(url).text for _ in range(2)] == ["https robot 772"] * 2
        tls12 = ssl.create_default_context(cafile=str(certs.ca))
        tls12.maximum_version = ssl.TLSVersion.TLSv1_2
        assert httpx.get(url, verify=tls12).text == "https None 771"
        assert config.ssl is not None
        assert config.ssl.minimum_version == ssl.TLSVersion.TLSv1_2
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Doubler(Predictor):
    def __init__(self) -> None:
        super().__init__(
            None,
            ModelSignature(
                inputs=[ColumnSpec(name="x", type="float")], task="regression", target="y"
            ),
        )

    def predict(self, features: Any) -> Prediction:
        return Prediction(np.asarray(features, dtype=float)[:, 0] * 2)


def test_serving_predictions_over_tls_with_a_key_or_a_certificate(
    certs: Certs, tls_platform: Platform, admin_token: str, robot: str
) -> None:
    authorizer = CachedKeyAuthorizer(tls_platform, poll_seconds=0)
    app = create_serving_app("doubler", "doubler", 1, Doubler(), authorizer)
    running = Running(app, certs.tls())
    try:
        verify = ssl.create_default_context(cafile=str(certs.ca))
        body = {"inputs": [[1.5], [2.0]]}
        url = running.url + "/invocations"
        answer = httpx.post(
            url, json=body, verify=verify, headers={"Authorization": f"Bearer {admin_token}"}
        )
        assert answer.json()["predictions"] == [3.0, 4.0]
        assert httpx.post(url, json=body, verify=verify).status_code == 401
        verify.load_cert_chain(certs.robot.cert, certs.robot.key)
        assert httpx.post(url, json=body, verify=verify).json()["predictions"] == [3.0, 4.0]
        assert httpx.get(running.url + "/metrics", verify=verify).status_code == 403
        ghost = ssl.create_default_context(cafile=str(certs.ca))
        ghost.load_cert_chain(certs.ghost.cert, certs.ghost.key)
        assert httpx.post(url, json=body, verify=ghost).status_code == 401
    finally:
        running.close()
        authorizer.stop()


def test_a_revoked_certificate_is_refused_by_both_servers(
    control_plane: Running,
    certs: Certs,
    tls_platform: Platform,
    robot: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A second certificate for robot (same CA, its own serial) is revoked by file through
    the CLI: both servers refuse it with a 401 naming the revocation, robot's other
    certificate still works, and the revocation is listed and audited."""
    import json
    import shutil

    second = tmp_path / "second"
    shutil.copytree(certs.dir, second)
    leaked = make_client_cert(second, "robot")
    serial = format(x509.load_pem_x509_certificate(leaked.cert.read_bytes()).serial_number, "x")
    url, ca = control_plane.url, certs.ca
    authorizer = CachedKeyAuthorizer(tls_platform, poll_seconds=0)
    serving = Running(
        create_serving_app("doubler", "doubler", 1, Doubler(), authorizer), certs.tls()
    )
    invocations, body = serving.url + "/invocations", {"inputs": [[1.0]]}
    leaked_tls = ssl.create_default_context(cafile=str(certs.ca))
    leaked_tls.load_cert_chain(leaked.cert, leaked.key)
    good_tls = ssl.create_default_context(cafile=str(certs.ca))
    good_tls.load_cert_chain(certs.robot.cert, certs.robot.key)
    STATE.url, STATE.api_key = None, None
    STATE._settings, STATE._client = tls_platform.settings, None
    try:
        with Client(url, ca_bundle=ca, client_cert=(leaked.cert, leaked.key)) as thief:
            assert "robot" in [p.name for p in thief.iam.list_principals()]
        assert httpx.post(invocations, json=body, verify=leaked_tls).status_code == 200

        assert main(["certs", "revoke", "--reason", "x"]) == 1
        assert "exactly one of --serial and --file" in capsys.readouterr().err
        assert main(["certs", "revoke", "--serial", "not-hex", "--reason", "x"]) == 1
        assert "serial" in capsys.readouterr().err
        revoke = ["certs", "revoke", "--file", str(leaked.cert), "--reason", "laptop stolen"]
        assert main([*revoke, "--json"]) == 0
        revoked = json.loads(capsys.readouterr().out)
        assert revoked["serial"] == serial and revoked["principal"] == "robot"
        assert main(revoke) == 1 and "already revoked" in capsys.readouterr().err
        assert main(["certs", "revoked", "--json"]) == 0
        assert [r["serial"] for r in json.loads(capsys.readouterr().out)] == [serial]

        with (
            Client(url, ca_bundle=ca, client_cert=(leaked.cert, leaked.key)) as thief,
            pytest.raises(Unauthenticated, match=f"serial {serial}.*revoked: laptop stolen"),
        ):
            thief.iam.list_principals()
        with Client(url, ca_bundle=ca, client_cert=(certs.robot.cert, certs.robot.key)) as ok:
            assert "robot" in [p.name for p in ok.iam.list_principals()]

        authorizer.reload()  # what its watcher does when the security generation moves
        refused = httpx.post(invocations, json=body, verify=leaked_tls)
        assert refused.status_code == 401 and "revoked: laptop stolen" in refused.text
        assert httpx.post(invocations, json=body, verify=good_tls).status_code == 200

        admin = Client(settings=tls_platform.settings)
        events = admin.iam.audit_events(action="iam:RevokeCertificate")
        assert [e.outcome for e in events] == ["failed", "succeeded"]  # newest first
        assert {e.resource for e in events} == {f"sy:certificate/{serial}"}
        assert events[1].detail["reason"] == "laptop stolen"
        admin.close()
    finally:
        serving.close()
        authorizer.stop()
        if STATE._client is not None:
            STATE._client.close()
        STATE._settings, STATE._client = None, None


def test_postgres_verify_full_is_passed_to_the_driver_and_never_downgraded(
    postgres_engine: sa.Engine, certs: Certs, tmp_path: Path
) -> None:
    """The local server has no SSL (``SHOW ssl`` is off): verify-full must fail, clearly."""
    with postgres_engine.connect() as connection:
        ssl_on = connection.execute(sa.text("SHOW ssl")).scalar() == "on"
    url = f"{POSTGRES_URL}?sslmode=verify-full&sslrootcert={certs.ca}"
    with pytest.raises(StorageError) as refused:
        Platform.open(Settings(home=tmp_path / "home", database_url=url))
    assert refused.value.field == "database_url"
    expected = "certificate verify failed" if ssl_on else "server does not support SSL"
    assert expected in refused.value.message


def test_s3_over_https_with_the_dev_ca_and_server_side_encryption(
    certs: Certs, tmp_path: Path
) -> None:
    """moto behind werkzeug's TLS: blobs go over https, verified with the dev CA, and are
    stored with SSE as the storage options ask."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs.server.cert, certs.server.key)
    app = DomainDispatcherApplication(create_backend_app)
    s3 = make_server(
        "127.0.0.1", 0, app, True, request_handler=MotoRequestHandler, ssl_context=context
    )
    thread = threading.Thread(target=s3.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"https://127.0.0.1:{s3.server_address[1]}"
        raw = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            verify=str(certs.ca),
            **S3_CREDENTIALS,
        )
        raw.create_bucket(Bucket="secure")
        options: dict[str, Any] = {
            "key": "testing",
            "secret": "testing",
            "client_kwargs": {
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "verify": str(certs.ca),
            },
            "s3_additional_kwargs": {"ServerSideEncryption": "AES256"},
        }
        store = open_blob_store("s3://secure/blobs", storage_options=options)
        digest = store.put_bytes(b"over tls")
        assert store.get_bytes(digest) == b"over tls"
        key = raw.list_objects_v2(Bucket="secure")["Contents"][0]["Key"]
        assert raw.head_object(Bucket="secure", Key=key)["ServerSideEncryption"] == "AES256"

        untrusting = {
            **options,
            "client_kwargs": {**options["client_kwargs"], "verify": True},
            "config_kwargs": {"retries": {"max_attempts": 1}},
        }
        with pytest.raises(StorageError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify"):
            open_blob_store("s3://secure/blobs", storage_options=untrusting).get_bytes(digest)
    finally:
        s3.shutdown()
        thread.join(timeout=10)
