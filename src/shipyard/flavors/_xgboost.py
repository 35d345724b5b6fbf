"""The xgboost flavor: XGBoost's own JSON model format."""

from __future__ import annotations

import ctypes
import itertools
import json
import threading
import weakref
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xgboost

from shipyard.errors import IntegrityError, InvalidInput
from shipyard.flavors._arrays import as_frame, as_matrix, class_array, to_prediction
from shipyard.flavors._artifact import require_magic
from shipyard.flavors._base import ModelSignature, Prediction, Predictor
from shipyard.flavors._frames import CodedFrame, probe_frame
from shipyard.flavors._xgboost_audit import CLASSIFICATION_OBJECTIVES, audit_model

FLAVOR = "xgboost"
_MAGIC = b"{"


def dump_xgboost(estimator: Any) -> bytes:
    """Return the JSON model of a fitted XGBClassifier/XGBRegressor or Booster."""
    booster = estimator if isinstance(estimator, xgboost.Booster) else estimator.get_booster()
    data = bytes(booster.save_raw("json"))
    audit_model(json.loads(data))
    return data


def load_xgboost(data: bytes, signature: ModelSignature) -> XGBoostPredictor:
    """Load an XGBoost JSON model after checking its structure against the signature."""
    require_magic(data, _MAGIC, FLAVOR)
    try:
        parsed = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise IntegrityError("the xgboost artifact is not an XGBoost JSON model") from exc
    if not isinstance(parsed, dict):
        raise IntegrityError("the xgboost artifact is not an XGBoost JSON model")
    objective, n_features, n_class = audit_model(parsed)
    if (objective in CLASSIFICATION_OBJECTIVES) != (signature.task == "classification"):
        raise IntegrityError(f"XGBoost objective {objective!r} does not fit a {signature.task}")
    if n_features != len(signature.inputs):
        raise IntegrityError(
            f"the XGBoost model takes {n_features} features, the signature lists "
            f"{len(signature.inputs)}"
        )
    n_classes = len(signature.classes or [])
    if signature.task == "classification" and n_class != (0 if n_classes == 2 else n_classes):
        raise IntegrityError("the XGBoost model's class count does not match the signature")
    booster = xgboost.Booster()
    try:
        booster.load_model(bytearray(data))
    except xgboost.core.XGBoostError as exc:
        raise IntegrityError(f"XGBoost could not read the model: {exc}") from exc
    booster.set_param({"nthread": 1})
    return XGBoostPredictor(booster, signature, stored_categories(parsed, signature))


class XGBoostPredictor(Predictor):
    """Predicts with an XGBoost Booster; float matrices go straight to XGBoost's C API."""

    flavor: ClassVar[str] = FLAVOR

    def __init__(
        self,
        model: xgboost.Booster,
        signature: ModelSignature,
        categories: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(model, signature)
        self._classes = class_array(signature)
        self._encode: Callable[[Any], np.ndarray | pd.DataFrame]
        self._run: Callable[[Any], np.ndarray] = self._inplace
        self.known_categories = {name: list(values) for name, values in (categories or {}).items()}
        if self.accepts_ndarray:
            self._encode = partial(as_matrix, signature=signature)
            probe = np.linspace(-3.0, 3.0, 4 * len(signature.inputs)).reshape(4, -1)
            probe[0, :] = np.nan
            direct = DensePredictor.create(model)
            if direct is not None and _same(direct, self._inplace, probe, probe):
                self._run = direct
        else:
            self._encode = partial(as_frame, signature=signature, categories=categories or {})
            coded = CodedFrame(signature, categories or {})
            frame = probe_frame(signature, categories or {})
            direct = DensePredictor.create(model)
            if direct is not None and _same(
                direct, self._inplace, coded(frame), self._encode(frame)
            ):
                self._encode, self._run = coded, direct

    @property
    def fast_path(self) -> bool:
        return isinstance(self._run, DensePredictor)

    def predict(self, features: np.ndarray | pd.DataFrame) -> Prediction:
        try:
            output = self._run(self._encode(features))
        except (xgboost.core.XGBoostError, ValueError) as exc:
            raise InvalidInput(f"the model rejected the input: {exc}", field="features") from exc
        return to_prediction(output, self._classes)

    def contributions(self, features: np.ndarray | pd.DataFrame) -> np.ndarray:
        """Tree SHAP values, shaped (rows, outputs, inputs + 1); the last column is the bias."""
        matrix = xgboost.DMatrix(self._encode(features), enable_categorical=True)
        values = np.asarray(self.model.predict(matrix, pred_contribs=True, validate_features=False))
        width = len(self.signature.inputs) + 1
        return values.reshape(values.shape[0], -1, width)

    def _inplace(self, data: np.ndarray | pd.DataFrame) -> np.ndarray:
        output: np.ndarray = self.model.inplace_predict(data, validate_features=False)
        return output


def _same(
    fast: Callable[[np.ndarray], np.ndarray],
    slow: Callable[[Any], np.ndarray],
    fast_input: np.ndarray,
    slow_input: np.ndarray | pd.DataFrame,
) -> bool:
    """True when the fast path matches XGBoost's own on all rows and on a single row."""
    try:
        expected = slow(slow_input)
        whole = fast(fast_input)
        first = fast(fast_input[:1])
    except (xgboost.core.XGBoostError, ValueError):
        return False
    return bool(np.array_equal(whole, expected) and np.array_equal(first, expected[:1]))


def stored_categories(model: dict[str, Any], signature: ModelSignature) -> dict[str, list[str]]:
    """The training categories of each string input, decoded from the model's UTF-8 table."""
    booster = model["learner"]["gradient_booster"]
    forest = booster["model"] if booster["name"] == "gbtree" else booster["gbtree"]["model"]
    encodings = forest.get("cats", {}).get("enc", [])
    categories: dict[str, list[str]] = {}
    for i, column in enumerate(signature.inputs):
        if column.type != "string":
            continue
        if i >= len(encodings) or not encodings[i].get("offsets"):
            raise IntegrityError(f"the XGBoost model stores no categories for {column.name!r}")
        offsets, values = encodings[i]["offsets"], encodings[i]["values"]
        raw = bytes(v & 0xFF for v in values)
        try:
            categories[column.name] = [
                raw[start:end].decode("utf-8") for start, end in itertools.pairwise(offsets)
            ]
        except UnicodeDecodeError as exc:
            raise IntegrityError("the XGBoost model's category table is not UTF-8") from exc
    return categories


class DensePredictor:
    """``XGBoosterPredictFromDense`` called directly, with a proxy matrix made once per model.

    The Python wrapper rebuilds its arguments and a proxy matrix on every call,
    which costs more than scoring one row. The proxy and the output parameters are
    made once and reused, so calls are serialized by a lock; the result is copied
    out of XGBoost's thread-local buffer before the lock is released.
    """

    _CONFIG = json.dumps(
        {
            "type": 0,
            "training": False,
            "iteration_begin": 0,
            "iteration_end": 0,
            "missing": float("nan"),
            "strict_shape": False,
            "cache_id": 0,
        }
    ).encode()
    _INTERFACE = b'{"data":[%d,true],"shape":[%d,%d],"strides":null,"typestr":"<f8","version":3}'

    def __init__(self, lib: Any, booster: xgboost.Booster, proxy: ctypes.c_void_p) -> None:
        self._lib = lib
        self._function = lib.XGBoosterPredictFromDense
        self._booster = booster
        self._handle = booster.handle
        self._proxy = proxy
        self._lock = threading.Lock()
        self._shape = ctypes.POINTER(ctypes.c_uint64)()
        self._dims = ctypes.c_uint64()
        self._out = ctypes.POINTER(ctypes.c_float)()
        self._outputs = (
            ctypes.byref(self._shape),
            ctypes.byref(self._dims),
            ctypes.byref(self._out),
        )
        weakref.finalize(self, lib.XGDMatrixFree, proxy)

    @classmethod
    def create(cls, booster: xgboost.Booster) -> DensePredictor | None:
        lib = getattr(xgboost.core, "_LIB", None)
        needed = ("XGBoosterPredictFromDense", "XGProxyDMatrixCreate", "XGDMatrixFree")
        if lib is None or getattr(booster, "handle", None) is None:
            return None
        if not all(hasattr(lib, name) for name in needed):
            return None
        proxy = ctypes.c_void_p()
        if lib.XGProxyDMatrixCreate(ctypes.byref(proxy)) != 0:
            return None
        return cls(lib, booster, proxy)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Scores of a C-contiguous float64 matrix ``x`` (rows by features)."""
        rows, width = x.shape
        interface = self._INTERFACE % (x.__array_interface__["data"][0], rows, width)
        with self._lock:
            status = self._function(
                self._handle, interface, self._CONFIG, self._proxy, *self._outputs
            )
            if status != 0:
                raise xgboost.core.XGBoostError(self._lib.XGBGetLastError().decode())
            shape = self._shape
            dimensions = tuple(shape[i] for i in range(self._dims.value))
            result = np.empty(dimensions, dtype=np.float32)
            if result.nbytes:
                ctypes.memmove(result.ctypes.data, self._out, result.nbytes)
            return result
