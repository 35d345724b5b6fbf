"""Serving fixtures: real fitted models, an in-memory authorizer, and the app under uvicorn."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from servingkit import (
    ENDPOINT,
    FULL_KEY,
    INVOKE_KEY,
    MODEL,
    NOTHING_KEY,
    VERSION,
    LiveServer,
    MemoryAuthorizer,
    TrippingPredictor,
    stored_predictor,
)
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from shipyard.flavors import ColumnSpec, ModelSignature, Predictor
from shipyard.serving import (
    DESCRIBE,
    INVOKE,
    READ_METRICS,
    ServingApp,
    ServingSettings,
    create_serving_app,
)


@pytest.fixture(scope="session")
def cancer() -> tuple[pd.DataFrame, np.ndarray]:
    data = load_breast_cancer(as_frame=True)
    return data.data, data.target.to_numpy()


@pytest.fixture(scope="session")
def booster(cancer: tuple[pd.DataFrame, np.ndarray]) -> Any:
    frame, target = cancer
    params = {"objective": "binary", "verbose": -1, "num_threads": 1}
    return lgb.train(params, lgb.Dataset(frame.to_numpy(), target), num_boost_round=20)


@pytest.fixture(scope="session")
def cancer_signature(cancer: tuple[pd.DataFrame, np.ndarray]) -> ModelSignature:
    return ModelSignature(
        inputs=[ColumnSpec(name=name, type="float") for name in cancer[0].columns],
        task="classification",
        target="diagnosis",
        classes=["malignant", "benign"],
    )


@pytest.fixture(scope="session")
def fruit() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = 60
    frame = pd.DataFrame(
        {
            "color": rng.choice(["red", "green", "yellow"], rows).astype(object),
            "weight": rng.normal(150, 30, rows),
            "seeds": rng.integers(0, 20, rows),
            "organic": rng.integers(0, 2, rows).astype(bool),
        }
    )
    frame["ripe"] = ((frame["color"] != "green") & (frame["weight"] > 140)).astype(int)
    return frame


@pytest.fixture(scope="session")
def fruit_predictor(fruit: pd.DataFrame) -> Predictor:
    encode = ColumnTransformer(
        [("color", OneHotEncoder(handle_unknown="ignore"), ["color"])], remainder="passthrough"
    )
    pipeline = Pipeline([("encode", encode), ("model", LogisticRegression(max_iter=2000))])
    pipeline.fit(fruit.drop(columns="ripe"), fruit["ripe"])
    signature = ModelSignature(
        inputs=[
            ColumnSpec(name="color", type="string"),
            ColumnSpec(name="weight", type="float"),
            ColumnSpec(name="seeds", type="integer"),
            ColumnSpec(name="organic", type="boolean"),
        ],
        task="classification",
        target="ripe",
        classes=[0, 1],
    )
    return stored_predictor(pipeline, signature)


@pytest.fixture
def authorizer() -> MemoryAuthorizer:
    return MemoryAuthorizer(
        {FULL_KEY: {INVOKE, DESCRIBE, READ_METRICS}, INVOKE_KEY: {INVOKE}, NOTHING_KEY: set()}
    )


@pytest.fixture
def serve_app() -> Iterator[Callable[[ServingApp], LiveServer]]:
    """Start any number of apps; all are stopped after the test."""
    servers: list[LiveServer] = []

    def start(app: ServingApp) -> LiveServer:
        servers.append(LiveServer(app))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def cancer_app(
    booster: Any, cancer_signature: ModelSignature, authorizer: MemoryAuthorizer
) -> ServingApp:
    return create_serving_app(
        ENDPOINT,
        MODEL,
        VERSION,
        TrippingPredictor(stored_predictor(booster, cancer_signature)),
        authorizer,
        ServingSettings(max_body_bytes=200_000, offload_rows=50),
    )


@pytest.fixture
def live(cancer_app: ServingApp, serve_app: Callable[[ServingApp], LiveServer]) -> LiveServer:
    return serve_app(cancer_app)


@pytest.fixture
def client(live: LiveServer) -> Iterator[httpx.Client]:
    with live.client() as http:
        yield http
