"""The lightgbm flavor: LightGBM's own text model format."""

from __future__ import annotations

import ctypes
import threading
import weakref
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

import lightgbm
import numpy as np
import pandas as pd

from shipyard.errors import IntegrityError, InvalidInput
from shipyard.flavors._arrays import as_frame, as_matrix, class_array, to_prediction
from shipyard.flavors._artifact import require_magic
from shipyard.flavors._base import ModelSignature, Prediction, Predictor
from shipyard.flavors._frames import CodedFrame, probe_frame
from shipyard.flavors._lightgbm_audit import CLASSIFICATION_OBJECTIVES, audit_model_text

FLAVOR = "lightgbm"
_MAGIC = b"tree\n"


def dump_lightgbm(estimator: Any) -> bytes:
    """Return the model text of a fitted LGBMClassifier/LGBMRegressor or Booster."""
    booster = estimator if isinstance(estimator, lightgbm.Booster) else estimator.booster_
    data: bytes = booster.model_to_string().encode("utf-8")
    audit_model_text(data.decode("utf-8"))
    return data


def load_lightgbm(data: bytes, signature: ModelSignature) -> LightGBMPredictor:
    """Load LightGBM model text after checking its structure against the signature."""
    require_magic(data, _MAGIC, FLAVOR)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IntegrityError("the lightgbm artifact is not UTF-8 model text") from exc
    checked, objective = audit_model_text(text)
    if (objective in CLASSIFICATION_OBJECTIVES) != (signature.task == "classification"):
        raise IntegrityError(f"LightGBM objective {objective!r} does not fit a {signature.task}")
    try:
        booster = lightgbm.Booster(model_str=checked)
    except lightgbm.basic.LightGBMError as exc:
        raise IntegrityError(f"LightGBM could not read the model: {exc}") from exc
    _check_shape(booster, signature)
    return LightGBMPredictor(booster, signature)


class LightGBMPredictor(Predictor):
    """Predicts with a LightGBM Booster on one thread; single rows use LightGBM's fast path."""

    flavor: ClassVar[str] = FLAVOR
    params: ClassVar[frozenset[str]] = frozenset({"num_iteration"})

    def __init__(self, model: lightgbm.Booster, signature: ModelSignature) -> None:
        super().__init__(model, signature)
        self._classes = class_array(signature)
        self._binary = (
            self._classes if self._classes is not None and len(self._classes) == 2 else None
        )
        self._predict = model.predict
        categories = _categories(model, signature)
        self.known_categories = {name: list(values) for name, values in categories.items()}
        self._encode: Callable[[Any], np.ndarray | pd.DataFrame]
        if self.accepts_ndarray:
            self._encode = partial(as_matrix, signature=signature)
        else:
            self._encode = partial(as_frame, signature=signature, categories=categories)
            coded = CodedFrame(signature, categories)
            probe = probe_frame(signature, categories)
            if np.allclose(self._run(coded(probe)), self._run(self._encode(probe)), equal_nan=True):
                self._encode = coded
        self._single_row: SingleRowPredictor | None = None
        single_row = SingleRowPredictor.create(model, len(signature.inputs))
        if single_row is not None and self._agrees(single_row):
            self._single_row = single_row

    @property
    def fast_path(self) -> bool:
        coded = self.accepts_ndarray or isinstance(self._encode, CodedFrame)
        return self._single_row is not None and coded

    def predict(self, features: np.ndarray | pd.DataFrame) -> Prediction:
        data = self._encode(features)
        if self._single_row is not None and isinstance(data, np.ndarray) and data.shape[0] == 1:
            if self._binary is not None:
                positive = self._single_row.scalar(data[0])
                return Prediction(
                    self._binary[[int(positive > 0.5)]], np.array([[1.0 - positive, positive]])
                )
            return to_prediction(self._single_row(data[0]), self._classes)
        return to_prediction(self._run(data), self._classes)

    def predict_with(
        self, features: np.ndarray | pd.DataFrame, params: dict[str, Any]
    ) -> Prediction:
        """``num_iteration``: predict with the first N boosting rounds (0: all of them)."""
        rounds = params.get("num_iteration", 0)
        if type(rounds) is not int or rounds < 0:
            raise InvalidInput(
                "must be a whole number of boosting rounds (0: all)",
                field="params.num_iteration",
            )
        return to_prediction(self._run(self._encode(features), rounds or None), self._classes)

    def contributions(self, features: np.ndarray | pd.DataFrame) -> np.ndarray:
        """Tree SHAP values, shaped (rows, outputs, inputs + 1); the last column is the bias."""
        data = self._encode(features)
        values = np.asarray(self._predict(data, num_threads=1, pred_contrib=True))
        width = len(self.signature.inputs) + 1
        return values.reshape(values.shape[0], -1, width)

    def _run(self, data: np.ndarray | pd.DataFrame, rounds: int | None = None) -> np.ndarray:
        try:
            if rounds is not None:
                return np.asarray(self._predict(data, num_threads=1, num_iteration=rounds))
            return np.asarray(self._predict(data, num_threads=1))
        except (lightgbm.basic.LightGBMError, ValueError) as exc:
            raise InvalidInput(f"the model rejected the input: {exc}", field="features") from exc

    def _agrees(self, single_row: SingleRowPredictor) -> bool:
        width = len(self.signature.inputs)
        probe = np.linspace(-5.0, 5.0, 6 * width).reshape(6, width)
        probe[0, :] = np.nan
        expected = self._run(probe).reshape(6, -1)
        rows = np.vstack([single_row(row).reshape(1, -1) for row in probe])
        return bool(np.allclose(rows, expected, rtol=1e-12, atol=0.0, equal_nan=True))


class SingleRowPredictor:
    """LightGBM's ``PredictForMatSingleRowFast`` C call, set up once per model.

    Calls are serialized by a lock, since the C side reuses one buffer per setup.
    """

    def __init__(
        self, function: Any, config: ctypes.c_void_p, outputs: int, booster: Any, width: int
    ) -> None:
        self._function = function
        self._config = config
        self._in = np.empty(width, dtype=np.float64)
        self._in_pointer = ctypes.c_void_p(self._in.ctypes.data)
        self._out = np.empty(outputs, dtype=np.float64)
        self._out_pointer = self._out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        self._out_len = ctypes.c_int64()
        self._out_len_ref = ctypes.byref(self._out_len)
        self._lock = threading.Lock()
        self._outputs = outputs
        weakref.finalize(self, _free_config, config, booster)

    @classmethod
    def create(cls, booster: lightgbm.Booster, width: int) -> SingleRowPredictor | None:
        lib = getattr(lightgbm.basic, "_LIB", None)
        handle = getattr(booster, "_handle", None)
        function = getattr(lib, "LGBM_BoosterPredictForMatSingleRowFast", None)
        if lib is None or handle is None or function is None:
            return None
        config = ctypes.c_void_p()
        status = lib.LGBM_BoosterPredictForMatSingleRowFastInit(
            handle,
            ctypes.c_int(0),
            ctypes.c_int(0),
            ctypes.c_int(-1),
            ctypes.c_int(1),
            ctypes.c_int32(width),
            b"num_threads=1",
            ctypes.byref(config),
        )
        if status != 0:
            return None
        return cls(function, config, booster.num_model_per_iteration(), booster, width)

    def __call__(self, row: np.ndarray) -> np.ndarray:
        with self._lock:
            status = self._score(row)
            output = self._out.copy()
        if status != 0:
            raise InvalidInput("LightGBM could not score the row", field="features")
        return output.reshape(1, -1) if self._outputs > 1 else output

    def scalar(self, row: np.ndarray) -> float:
        """The single output of a one-output model (binary probability or value), no copies."""
        with self._lock:
            status = self._score(row)
            value = float(self._out[0])
        if status != 0:
            raise InvalidInput("LightGBM could not score the row", field="features")
        return value

    def _score(self, row: np.ndarray) -> int:
        self._in[:] = row
        status: int = self._function(
            self._config, self._in_pointer, self._out_len_ref, self._out_pointer
        )
        return status


def _free_config(config: ctypes.c_void_p, booster: Any) -> None:
    lib = getattr(lightgbm.basic, "_LIB", None)
    if lib is not None and booster is not None:
        lib.LGBM_FastConfigFree(config)


def _categories(booster: lightgbm.Booster, signature: ModelSignature) -> dict[str, list[str]]:
    strings = [c.name for c in signature.inputs if c.type == "string"]
    stored = getattr(booster, "pandas_categorical", None) or []
    if len(stored) != len(strings) or not all(isinstance(c, list) for c in stored):
        raise IntegrityError("the LightGBM model's categories do not match the signature's strings")
    return {name: [str(v) for v in values] for name, values in zip(strings, stored, strict=True)}


def _check_shape(booster: lightgbm.Booster, signature: ModelSignature) -> None:
    if booster.num_feature() != len(signature.inputs):
        raise IntegrityError(
            f"the LightGBM model takes {booster.num_feature()} features, the signature lists "
            f"{len(signature.inputs)}"
        )
    if signature.task == "classification":
        n_classes = len(signature.classes or [])
        expected = 1 if n_classes == 2 else n_classes
        if booster.num_model_per_iteration() != expected:
            raise IntegrityError("the LightGBM model's class count does not match the signature")
