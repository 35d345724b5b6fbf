"""Models of every framework log_model takes, fitted on four breast-cancer columns, each
with the options to log it and what it predicts in its own framework (the reference)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pandas as pd
import xgboost
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from shipyard.flavors import CodeModel

COLUMNS = ["radius", "texture", "perimeter", "area"]
CODE_DIR = Path(__file__).parent / "codemodel"
WEIGHTS = np.array([0.5, -0.25, 0.125, 0.001])


def table() -> tuple[pd.DataFrame, np.ndarray]:
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return x.iloc[:, :4].set_axis(COLUMNS, axis=1), y.to_numpy()


@dataclass
class Case:
    """A fitted model, how to log it, the flavor it is stored as, its own predictions."""

    model: Any
    options: dict[str, Any]
    flavor: str
    reference: Callable[[pd.DataFrame], np.ndarray]
    needs_code: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _sklearn(x: pd.DataFrame, y: np.ndarray) -> Case:
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, y)
    return Case(pipe, {"input_example": x.head()}, "sklearn", pipe.predict)


def _lightgbm_booster(x: pd.DataFrame, y: np.ndarray) -> Case:
    params = {"objective": "binary", "verbose": -1, "num_threads": 1}
    booster = lightgbm.train(params, lightgbm.Dataset(x.to_numpy(), y), num_boost_round=10)
    return Case(
        booster,
        {"input_example": x.head()},
        "lightgbm",
        lambda rows: (booster.predict(rows.to_numpy()) > 0.5).astype(int),
    )


def _lightgbm_sklearn(x: pd.DataFrame, y: np.ndarray) -> Case:
    model = lightgbm.LGBMClassifier(n_estimators=10, verbose=-1, n_jobs=1).fit(x, y)
    return Case(model, {"input_example": x.head()}, "lightgbm", model.predict)


def _xgboost(x: pd.DataFrame, y: np.ndarray) -> Case:
    model = xgboost.XGBClassifier(n_estimators=10, max_depth=3, n_jobs=1).fit(x, y)
    return Case(model, {"input_example": x.head()}, "xgboost", model.predict)


def _onnx(x: pd.DataFrame, y: np.ndarray) -> Case:
    from skl2onnx import to_onnx

    model = LogisticRegression(max_iter=5000).fit(x.to_numpy(), y)
    proto = to_onnx(
        model, x.to_numpy()[:1].astype(np.float32), options={id(model): {"zipmap": False}}
    )
    options = {"input_example": x.head(), "task": "classification", "classes": [0, 1]}
    return Case(proto.SerializeToString(), options, "onnx", lambda r: model.predict(r.to_numpy()))


def _torch_net() -> Any:
    import torch
    from tests.flavors.torchnet import TinyNet

    torch.manual_seed(7)
    return TinyNet(width=4, classes=2)


def _torch_reference(net: Any) -> Callable[[pd.DataFrame], np.ndarray]:
    import torch

    def predict(rows: pd.DataFrame) -> np.ndarray:
        with torch.no_grad():
            logits = net(torch.tensor(rows.to_numpy(), dtype=torch.float32))
        return np.asarray(logits.argmax(dim=1).numpy())

    return predict


def _torch(x: pd.DataFrame, y: np.ndarray) -> Case:
    net = _torch_net()
    options = {
        "input_example": x.head(),
        "task": "classification",
        "classes": [0, 1],
        "init": {"width": 4, "classes": 2},
    }
    return Case(net, options, "pytorch", _torch_reference(net), needs_code=True)


def _torch_onnx(x: pd.DataFrame, y: np.ndarray) -> Case:
    net = _torch_net()
    options = {
        "input_example": x.head(),
        "task": "classification",
        "classes": [0, 1],
        "export": "onnx",
    }
    return Case(net, options, "onnx", _torch_reference(net))


def code_model(bias: float = 0.5) -> CodeModel:
    return CodeModel(
        "scorer:LinearScore",
        CODE_DIR,
        {"weights.npy": WEIGHTS, "config.json": {"bias": bias}},
    )


def _code(x: pd.DataFrame, y: np.ndarray) -> Case:
    options = {"input_example": x.head(), "task": "regression"}
    return Case(
        code_model(), options, "code", lambda r: r.to_numpy() @ WEIGHTS + 0.5, needs_code=True
    )


CASES: dict[str, Callable[[pd.DataFrame, np.ndarray], Case]] = {
    "sklearn-pipeline": _sklearn,
    "lightgbm-booster": _lightgbm_booster,
    "lightgbm-sklearn": _lightgbm_sklearn,
    "xgboost": _xgboost,
    "onnx": _onnx,
    "pytorch-safetensors": _torch,
    "pytorch-onnx": _torch_onnx,
    "code": _code,
}
