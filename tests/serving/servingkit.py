"""Helpers for the serving tests: test models, an in-memory authorizer, a live uvicorn server."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import numpy as np
import pandas as pd
import uvicorn

from shipyard.errors import AccessDenied, Unauthenticated
from shipyard.flavors import (
    ModelSignature,
    Prediction,
    Predictor,
    artifact_digest,
    load_predictor,
    save_model,
)
from shipyard.security import NO_TRANSPORT, Transport
from shipyard.serving import ServingApp, uvicorn_config

FULL_KEY = "sy-key-full"
INVOKE_KEY = "sy-key-invoke-only"
NOTHING_KEY = "sy-key-no-actions"
ENDPOINT = "churn-api"
MODEL = "cancer-gbm"
VERSION = 3
FAIL_MARKER = -999.0


class MemoryAuthorizer:
    """Keys mapped to the actions they may take; stands in for the database-backed authorizer."""

    def __init__(self, grants: dict[str, set[str]]) -> None:
        self.grants = grants
        self.calls: list[tuple[str, str, str]] = []

    def authorize(
        self,
        authorization: str | None,
        action: str,
        resource: str,
        transport: Transport = NO_TRANSPORT,
    ) -> str:
        if authorization is None or not authorization.startswith("Bearer "):
            raise Unauthenticated("send Authorization: Bearer <key>", field="authorization")
        key = authorization.removeprefix("Bearer ")
        if key not in self.grants:
            raise Unauthenticated("unknown API key", field="authorization")
        if action not in self.grants[key]:
            raise AccessDenied(
                f"{action} on {resource} is not allowed",
                field="authorization",
                principal=f"principal-of-{key}",
            )
        self.calls.append((key, action, resource))
        return f"principal-of-{key}"

    def resolve(
        self,
        authorization: str | None,
        action: str,
        resource: str,
        transport: Transport = NO_TRANSPORT,
    ) -> str:
        return self.authorize(authorization, action, resource, transport)


class TrippingPredictor(Predictor):
    """Wraps a real predictor and raises when the first value is ``FAIL_MARKER``."""

    def __init__(self, inner: Predictor) -> None:
        super().__init__(inner.model, inner.signature)
        self.inner = inner
        self.flavor = inner.flavor  # type: ignore[misc]

    def predict(self, features: np.ndarray | pd.DataFrame) -> Prediction:
        if np.asarray(features)[0, 0] == FAIL_MARKER:
            raise RuntimeError("the model cannot handle this row")
        return self.inner.predict(features)


def stored_predictor(estimator: object, signature: ModelSignature) -> Predictor:
    """Save with Shipyard's flavors and load back, as the registry does."""
    flavor, data = save_model(estimator)
    return load_predictor(flavor, data, signature, expected_digest=artifact_digest(data))


class LiveServer:
    """A serving app under real uvicorn on a free loopback port, in a background thread."""

    def __init__(self, app: ServingApp) -> None:
        self.app = app
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn_config(app, port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]})
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        self.sock = sock

    def client(self, key: str | None = FULL_KEY) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()
