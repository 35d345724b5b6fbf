"""The bench model: LightGBM on sklearn's breast cancer data, saved as its native text."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import lightgbm as lgb
import pandas as pd
from sklearn.datasets import load_breast_cancer

from shipyard.errors import AccessDenied, Unauthenticated
from shipyard.flavors import (
    ColumnSpec,
    ModelSignature,
    Prediction,
    Predictor,
    artifact_digest,
    load_predictor,
    save_model,
)

TREES = 100


def train(model_dir: Path) -> tuple[Any, pd.DataFrame]:
    """Fit the booster on numpy and write ``model.txt`` and ``columns.json`` beside an example."""
    data = load_breast_cancer(as_frame=True)
    frame: pd.DataFrame = data.data
    booster = lgb.train(
        {"objective": "binary", "verbose": -1},
        lgb.Dataset(frame.to_numpy(), data.target.to_numpy()),
        num_boost_round=TREES,
    )
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "model.txt").write_text(booster.model_to_string())
    (model_dir / "columns.json").write_text(json.dumps(list(frame.columns)))
    frame.iloc[:5].to_json(model_dir / "example.json", orient="split")
    return booster, frame


def train_gbc(model_dir: Path) -> tuple[Any, pd.DataFrame]:
    """scikit-learn's GradientBoostingClassifier (100 trees), saved in Shipyard's sklearn flavor."""
    from sklearn.ensemble import GradientBoostingClassifier

    data = load_breast_cancer(as_frame=True)
    frame: pd.DataFrame = data.data
    model = GradientBoostingClassifier(random_state=0).fit(frame.to_numpy(), data.target)
    flavor, payload = save_model(model)
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / f"model.{flavor}").write_bytes(payload)
    (model_dir / "columns.json").write_text(json.dumps(list(frame.columns)))
    return model, frame


class RawSklearnPredictor(Predictor):
    """The estimator's own ``predict_proba`` per call, as MLflow's pyfunc calls it (bench only)."""

    flavor = "sklearn"

    def predict(self, features: Any) -> Prediction:
        probabilities = self.model.predict_proba(features)
        return Prediction(probabilities.argmax(axis=1), probabilities)


def signature(columns: list[str]) -> ModelSignature:
    return ModelSignature(
        inputs=[ColumnSpec(name=name, type="float") for name in columns],
        task="classification",
        target="diagnosis",
        classes=[0, 1],
    )


def load_bench_predictor(model_dir: Path, *, raw: bool = False) -> tuple[Predictor, str]:
    """The model as Shipyard stores and loads it, and a label for the table.

    ``raw`` serves a scikit-learn model through its own ``predict_proba`` instead
    of the flavor's lean kernel, for a model whose single-row call is costly.
    """
    sig = signature(json.loads((model_dir / "columns.json").read_text()))
    if (model_dir / "model.sklearn").exists():
        flavor, data = "sklearn", (model_dir / "model.sklearn").read_bytes()
    else:
        booster = lgb.Booster(model_str=(model_dir / "model.txt").read_text())
        flavor, data = save_model(booster)
    predictor = load_predictor(flavor, data, sig, expected_digest=artifact_digest(data))
    if raw:
        return RawSklearnPredictor(predictor.model, sig), "sklearn predict_proba (no lean kernel)"
    return predictor, f"shipyard.flavors {flavor} ({type(predictor).__name__})"


class HashedKeyAuthorizer:
    """Keys kept as SHA-256 digests in memory, as the platform's cached authorizer does."""

    def __init__(self, grants: dict[str, set[str]]) -> None:
        self._grants = {hashlib.sha256(k.encode()).hexdigest(): a for k, a in grants.items()}

    def authorize(
        self, authorization: str | None, action: str, resource: str, transport: object = None
    ) -> str:
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthenticated("send Authorization: Bearer <key>", field="authorization")
        digest = hashlib.sha256(authorization[7:].encode()).hexdigest()
        actions = self._grants.get(digest)
        if actions is None:
            raise Unauthenticated("unknown API key", field="authorization")
        if action not in actions:
            raise AccessDenied(f"{action} on {resource} is not allowed", field="authorization")
        return digest[:12]

    def resolve(
        self, authorization: str | None, action: str, resource: str, transport: object = None
    ) -> str:
        """Every key is in memory: the same answer as ``authorize``."""
        return self.authorize(authorization, action, resource)
