"""An endpoint served from the registry, with real keys, real policies and a real server."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from tests.conftest import LiveServer
from tests.fixtures.lifecycle import train_and_register

from shipyard.client import Client
from shipyard.endpoints import build_serving_app
from shipyard.errors import UnsafeArtifact
from shipyard.names import parse_reference
from shipyard.platform import Platform
from shipyard.registry import load_version_predictor, resolve
from shipyard.security import (
    CachedKeyAuthorizer,
    attach_policy,
    context_for,
    create_api_key,
    create_principal,
    put_policy,
)


@pytest.fixture
def served(platform: Platform, tmp_path: Path) -> Any:
    client = Client(settings=platform.settings)
    train_and_register(client, tmp_path)
    client.endpoints.create("bc", "bc-model@1")
    app = build_serving_app(platform, "bc")
    live = LiveServer(app)
    yield client, live
    live.close()
    assert isinstance(app.authorizer, CachedKeyAuthorizer)
    app.authorizer.stop()
    client.close()


def _caller(platform: Platform, name: str, actions: list[str]) -> str:
    admin = context_for(platform, "admin")
    create_principal(admin, name)
    if actions:
        put_policy(
            admin,
            f"{name}-policy",
            {"Statement": [{"Effect": "Allow", "Action": actions, "Resource": "sy:endpoint/bc"}]},
        )
        attach_policy(admin, name, f"{name}-policy")
    token = create_api_key(admin, name).token
    assert token
    return token


def test_endpoint_answers_like_the_model(platform: Platform, served: Any, tmp_path: Path) -> None:
    _client, live = served
    caller = _caller(platform, "app", ["endpoints:Invoke"])
    frame = pd.read_csv(tmp_path / "breast_cancer.csv").drop(columns=["diagnosis"]).head(5)
    body = {"dataframe_split": frame.to_dict(orient="split", index=False)}
    response = httpx.post(
        f"{live.url}/invocations", json=body, headers={"Authorization": f"Bearer {caller}"}
    )
    assert response.status_code == 200, response.text
    with platform.db.session() as session:
        _, version = resolve(session, parse_reference("bc-model@1"))
    expected = load_version_predictor(platform, version).predict(frame.to_numpy(dtype=np.float64))
    answer = response.json()
    assert answer["predictions"] == list(expected.predictions)
    assert np.allclose(answer["probabilities"], expected.probabilities)
    assert response.headers["x-shipyard-model-version"] == "1"


def test_endpoint_keys_and_policies(platform: Platform, served: Any) -> None:
    _client, live = served
    nobody = _caller(platform, "nobody", [])
    assert httpx.get(f"{live.url}/ping").status_code == 200
    assert httpx.post(f"{live.url}/invocations", json={}).status_code == 401
    denied = httpx.post(
        f"{live.url}/invocations",
        json={"instances": [[1.0]]},
        headers={"Authorization": f"Bearer {nobody}"},
    )
    assert denied.status_code == 403
    metrics = httpx.get(f"{live.url}/metrics", headers={"Authorization": f"Bearer {nobody}"})
    assert metrics.status_code == 403


class _Payload:
    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (Path(self.marker),))  # type: ignore[attr-defined]


def test_planted_pickle_is_refused_and_never_runs(
    platform: Platform, served: Any, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    payload = _Payload()
    payload.marker = str(marker)  # type: ignore[attr-defined]
    evil = pickle.dumps(payload)
    digest = platform.blobs.put_bytes(evil)
    with platform.db.session() as session:
        _, version = resolve(session, parse_reference("bc-model@1"))
        version.digest = digest
        version.flavor = "sklearn"
    with pytest.raises(UnsafeArtifact):
        build_serving_app(platform, "bc")
    assert not marker.exists()
    with platform.db.session() as session:
        _, version = resolve(session, parse_reference("bc-model@1"))
        version.flavor = "lightgbm"
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do, as long as nothing runs
        build_serving_app(platform, "bc")
    assert not marker.exists()


PUBLIC_PROBES = {"/ping", "/v2/health/live", "/v2/health/ready"}


def test_every_serving_route_needs_a_key_and_a_policy(platform: Platform, served: Any) -> None:
    _client, live = served
    app_routes = live.server.config.app.routes
    assert {r.path for r in app_routes if r.public} == PUBLIC_PROBES
    outsider = _caller(platform, "outsider", [])
    with httpx.Client(base_url=live.url) as http:
        for route in app_routes:
            path = route.path.replace("{name}", "bc-model").replace("{version}", "1")
            for method in route.methods:
                if route.public:
                    assert http.request(method, path).status_code == 200
                    continue
                assert http.request(method, path).status_code == 401, path
                denied = http.request(method, path, headers={"Authorization": f"Bearer {outsider}"})
                assert denied.status_code == 403, (method, path)
