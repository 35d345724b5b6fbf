"""Helpers for the data-plane tests: models registered in-process, a served endpoint, traffic."""

from __future__ import annotations

import io
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import lightgbm as lgb
import numpy as np
import orjson
import pandas as pd
from sklearn.datasets import load_breast_cancer
from tests.conftest import LiveServer

from shipyard.clock import utcnow
from shipyard.config import Settings
from shipyard.endpoints import build_serving_app
from shipyard.flavors import ColumnSpec, ModelSignature, save_model
from shipyard.platform import Platform
from shipyard.registry import MODEL_ARTIFACT, MODEL_META, register_model
from shipyard.security import (
    CachedKeyAuthorizer,
    bootstrap,
    context_for,
    issue_admin_key_if_none,
)
from shipyard.serving import ServingApp, ServingSettings
from shipyard.tracking import start_run, store_artifact

MODEL = "bc-model"
VALIDATION = "model/validation.parquet"


@cache
def cancer() -> tuple[pd.DataFrame, np.ndarray]:
    data = load_breast_cancer(as_frame=True)
    return data.data, data.target.to_numpy()


@cache
def booster(trees: int) -> lgb.Booster:
    frame, target = cancer()
    params = {"objective": "binary", "verbose": -1, "num_threads": 1, "num_leaves": 7}
    return lgb.train(params, lgb.Dataset(frame.to_numpy(), target), num_boost_round=trees)


def signature() -> ModelSignature:
    return ModelSignature(
        inputs=[ColumnSpec(name=name, type="float") for name in cancer()[0].columns],
        task="classification",
        target="diagnosis",
        classes=[0, 1],
    )


def register(platform: Platform, estimator: object, name: str = MODEL) -> int:
    """Register a fitted estimator as the next version of ``name``, as a training job would."""
    flavor, data = save_model(estimator)
    with platform.db.session() as session:
        run = start_run(session, experiment="data-plane", principal="admin")
        artifact = store_artifact(platform, session, run.id, MODEL_ARTIFACT, data)
        meta = {
            "flavor": flavor,
            "digest": artifact.digest,
            "signature": signature().model_dump(mode="json"),
        }
        store_artifact(platform, session, run.id, MODEL_META, orjson.dumps(meta))
        store_artifact(platform, session, run.id, VALIDATION, _parquet(cancer()[0].head(200)))
        run.status = "finished"
        run.end_time = utcnow()
        run_id = run.id
    return register_model(context_for(platform, "admin"), name, run_id).version


def _parquet(frame: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    frame.to_parquet(sink, index=False)
    return sink.getvalue()


def register_three(platform: Platform) -> None:
    """bc-model v1 (20 trees), v2 (3 trees, answers differ), v3 (the same model as v1)."""
    for trees in (20, 3, 20):
        register(platform, booster(trees))


def rows(count: int = 1, start: int = 0) -> list[list[float]]:
    frame, _ = cancer()
    return frame.iloc[start : start + count].to_numpy().tolist()


def expected(version_trees: int, count: int = 1, start: int = 0) -> np.ndarray:
    frame, _ = cancer()
    matrix = frame.iloc[start : start + count].to_numpy()
    return booster(version_trees).predict(matrix)


@contextmanager
def embedded(tmp_path: Path) -> Iterator[Platform]:
    """A platform on SQLite, for tests where the database backend does not matter."""
    platform = Platform.open(Settings(home=tmp_path / "home", key_cache_seconds=0.2))
    bootstrap(platform)
    try:
        yield platform
    finally:
        platform.close()


def admin_token(platform: Platform) -> str:
    key = issue_admin_key_if_none(platform)
    assert key is not None
    return key.token


@dataclass
class Served:
    """A running data plane for one endpoint, with a key that may call it."""

    app: ServingApp
    live: LiveServer
    token: str

    @property
    def url(self) -> str:
        return self.live.url

    def client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@contextmanager
def serving(
    platform: Platform, endpoint: str, settings: ServingSettings | None = None
) -> Iterator[Served]:
    """Serve ``endpoint`` on 127.0.0.1; closing it runs the clean (lifespan) shutdown."""
    token = admin_token(platform)
    if settings is None:
        settings = ServingSettings(poll_seconds=0.05, report_seconds=0.2)
    app = build_serving_app(platform, endpoint, settings=settings)
    live = LiveServer(app)
    try:
        yield Served(app, live, token)
    finally:
        live.close()
        assert isinstance(app.authorizer, CachedKeyAuthorizer)
        app.authorizer.stop()


def wait_for(condition: Any, timeout: float = 20.0) -> None:
    """Poll until ``condition()`` is true (the reload thread works in the background)."""
    stop = threading.Event()
    deadline = timeout / 0.02
    for _ in range(int(deadline)):
        if condition():
            return
        stop.wait(0.02)
    raise AssertionError("condition not met in time")


@dataclass
class Traffic:
    """Steady single-row traffic from a few threads; every answer counted by variant and version."""

    url: str
    token: str
    threads: int = 4
    ok: int = 0
    failed: list[str] = field(default_factory=list)
    answered: Counter[tuple[str, str]] = field(default_factory=Counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Traffic:
        for i in range(self.threads):
            worker = threading.Thread(target=self._drive, args=(i,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)

    def _drive(self, index: int) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        body = {"instances": rows(1, index)}
        with httpx.Client(base_url=self.url, headers=headers, timeout=30) as http:
            for _ in range(100_000):
                if self._stop.is_set():
                    return
                try:
                    response = http.post("/invocations", json=body)
                except httpx.HTTPError as error:
                    with self._lock:
                        self.failed.append(repr(error))
                    continue
                with self._lock:
                    if response.status_code == 200:
                        self.ok += 1
                        key = (
                            response.headers["x-shipyard-variant"],
                            response.headers["x-shipyard-model-version"],
                        )
                        self.answered[key] += 1
                    else:
                        self.failed.append(f"{response.status_code}: {response.text[:200]}")

    def settle(self, requests: int, seconds: float = 1.0) -> None:
        """Let at least ``requests`` more requests and ``seconds`` of traffic pass."""
        target = self.count() + requests
        self._stop.wait(seconds)
        wait_for(lambda: self.count() >= target)

    def seen(self) -> set[tuple[str, str]]:
        with self._lock:
            return set(self.answered)

    def count(self) -> int:
        with self._lock:
            return self.ok + len(self.failed)
