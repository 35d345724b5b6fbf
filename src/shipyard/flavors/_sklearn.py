"""The sklearn flavor: estimators and pipelines stored with skops, never pickle."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import sklearn
import skops.io
from sklearn.pipeline import Pipeline
from skops.io.exceptions import UntrustedTypesFoundException

from shipyard.errors import IntegrityError, InvalidInput, UnsafeArtifact
from shipyard.flavors._arrays import as_frame, as_matrix, class_array, to_prediction
from shipyard.flavors._artifact import require_magic
from shipyard.flavors._base import ModelSignature, Prediction, Predictor
from shipyard.flavors._frames import compile_one_hot, probe_frame
from shipyard.flavors._sklearn_categories import encoder_categories
from shipyard.flavors._sklearn_fast import Kernel, compile_kernel, compile_steps
from shipyard.flavors._sklearn_trust import TRUSTED_TYPES, audit_structures, check_types

FLAVOR = "sklearn"
_ZIP_MAGIC = b"PK\x03\x04"


def dump_sklearn(estimator: Any) -> bytes:
    """Serialize a fitted estimator with skops, refusing anything a load would refuse.

    The archive is rewritten canonically (object ids numbered in order, fixed
    timestamps, compressed), so the same fitted model always has the same digest.
    """
    try:
        data = _canonical(skops.io.dumps(estimator))
    except Exception as exc:  # skops raises a variety of types for unsupported objects
        raise InvalidInput(f"cannot store {type(estimator).__name__} with skops: {exc}") from exc
    check_types(data)
    return data


def _canonical(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        schema = json.loads(archive.read("schema.json"))
        ids: dict[Any, int] = {}
        files: dict[str, str] = {}

        def renumber(node: Any) -> None:
            if isinstance(node, list):
                for item in node:
                    renumber(item)
            elif isinstance(node, dict):
                if "__id__" in node:
                    node["__id__"] = ids.setdefault(node["__id__"], len(ids) + 1)
                if isinstance(node.get("file"), str):
                    old = node["file"]
                    node["file"] = files.setdefault(old, f"{len(files) + 1}{Path(old).suffix}")
                for value in node.values():
                    renumber(value)

        renumber(schema)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as rebuilt:
            for old, new in [("schema.json", "schema.json"), *files.items()]:
                content = json.dumps(schema).encode() if old == "schema.json" else archive.read(old)
                entry = zipfile.ZipInfo(new, date_time=(1980, 1, 1, 0, 0, 0))
                rebuilt.writestr(entry, content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def load_sklearn(data: bytes, signature: ModelSignature) -> SklearnPredictor:
    """Load a skops artifact after checking every type it names and every tree it holds."""
    require_magic(data, _ZIP_MAGIC, FLAVOR)
    check_types(data)
    try:
        model = skops.io.loads(data, trusted=list(TRUSTED_TYPES))
    except UntrustedTypesFoundException as exc:
        raise UnsafeArtifact(f"the sklearn artifact needs untrusted types: {exc}") from exc
    except Exception as exc:  # a damaged archive can fail anywhere inside skops
        raise IntegrityError(f"the sklearn artifact could not be loaded: {exc}") from exc
    audit_structures(model)
    _check_fits_signature(model, signature)
    return SklearnPredictor(model, signature)


class SklearnPredictor(Predictor):
    """Predicts with a scikit-learn estimator, through a lean kernel when one is verified.

    Models with string inputs compile only the shape Shipyard trains (a one-hot
    ColumnTransformer, then supported steps).
    """

    flavor: ClassVar[str] = FLAVOR

    def __init__(self, model: Any, signature: ModelSignature) -> None:
        super().__init__(model, signature)
        self._classes = class_array(signature)
        # fitted on a DataFrame (a logged model): give sklearn named columns, as it expects
        self._named = getattr(model, "feature_names_in_", None) is not None
        self._method = model.predict_proba if self._classes is not None else model.predict
        self.known_categories = encoder_categories(model, signature)
        self._encode: Callable[[Any], np.ndarray] = partial(as_matrix, signature=signature)
        self._kernel: Kernel | None = None
        self._kernel_handles_nan = False
        compiled = self._compile()
        if compiled is not None and self._agrees(compiled[0], compiled[1]):
            self._encode, (self._kernel, self._kernel_handles_nan) = compiled[0], compiled[1]

    @property
    def fast_path(self) -> bool:
        return self._kernel is not None

    def predict(self, features: np.ndarray | pd.DataFrame) -> Prediction:
        if self._kernel is not None:
            x = self._encode(features)
            if self._kernel_can_take(x):
                return to_prediction(self._kernel(x), self._classes)
        return to_prediction(self._call_sklearn(self._sklearn_input(features)), self._classes)

    def _sklearn_input(self, features: np.ndarray | pd.DataFrame) -> np.ndarray | pd.DataFrame:
        if self.accepts_ndarray:
            return as_matrix(features, self.signature)
        return as_frame(features, self.signature)

    def _compile(self) -> tuple[Callable[[Any], np.ndarray], tuple[Kernel, bool]] | None:
        if self.accepts_ndarray:
            kernel = compile_kernel(self.model, len(self.signature.inputs))
            return None if kernel is None else (self._encode, kernel)
        if not isinstance(self.model, Pipeline) or len(self.model.steps) < 2:
            return None
        one_hot = compile_one_hot(self.model.steps[0][1], self.signature)
        if one_hot is None:
            return None
        rest = compile_steps([step for _, step in self.model.steps[1:]], one_hot.width)
        return None if rest is None else (one_hot, rest)

    def _kernel_can_take(self, x: np.ndarray) -> bool:
        if self._kernel_handles_nan:
            return not np.isinf(x).any()
        return bool(np.isfinite(x).all())

    def _call_sklearn(self, data: np.ndarray | pd.DataFrame) -> np.ndarray:
        if isinstance(data, np.ndarray) and self._named:
            data = pd.DataFrame(data, columns=self.signature.input_names)
        try:
            with sklearn.config_context(skip_parameter_validation=True):
                output: np.ndarray = self._method(data)
        except ValueError as exc:
            raise InvalidInput(f"the model rejected the input: {exc}", field="features") from exc
        return output

    def _agrees(self, encode: Callable[[Any], np.ndarray], compiled: tuple[Kernel, bool]) -> bool:
        if self.accepts_ndarray:
            probe: np.ndarray | pd.DataFrame = _probe_rows(len(self.signature.inputs), compiled[1])
        else:
            _, one_hot, strings = self.model.steps[0][1].transformers_[0]
            probe = probe_frame(
                self.signature, dict(zip(strings, one_hot.categories_, strict=True))
            )
        try:
            x = encode(probe)
            fast = to_prediction(compiled[0](x), self._classes)
            slow = to_prediction(self._call_sklearn(self._sklearn_input(probe)), self._classes)
        except (ArithmeticError, InvalidInput, TypeError, ValueError, IndexError):
            return False
        if self._classes is None:
            return bool(np.allclose(fast.predictions, slow.predictions, rtol=1e-7, atol=1e-9))
        assert fast.probabilities is not None and slow.probabilities is not None
        return fast.probabilities.shape == slow.probabilities.shape and bool(
            np.allclose(fast.probabilities, slow.probabilities, rtol=1e-7, atol=1e-9)
        )


def _probe_rows(width: int, with_missing: bool) -> np.ndarray:
    rng = np.random.default_rng(20240601)
    scales = np.repeat([0.1, 1.0, 10.0, 100.0, 1000.0], 8)[:, None]
    rows = rng.normal(size=(len(scales), width)) * scales
    probe = np.vstack([np.zeros((1, width)), rows, np.abs(rows[:8])])
    if with_missing:
        probe[1::3, ::2] = np.nan
    return probe


def _check_fits_signature(model: Any, signature: ModelSignature) -> None:
    method = "predict_proba" if signature.task == "classification" else "predict"
    if not callable(getattr(model, method, None)):
        raise IntegrityError(f"the stored {type(model).__name__} has no {method} method")
    classes = getattr(model, "classes_", None)
    if signature.task == "classification" and (
        classes is None or np.asarray(classes).tolist() != signature.classes
    ):
        raise IntegrityError("the stored model's classes do not match the signature's classes")
    names = getattr(model, "feature_names_in_", None)
    if names is not None and list(names) != signature.input_names:
        raise IntegrityError("the stored model's input columns do not match the signature")
    n_features = getattr(model, "n_features_in_", None)
    if n_features is not None and n_features != len(signature.inputs):
        raise IntegrityError(
            f"the stored model takes {n_features} features, the signature lists "
            f"{len(signature.inputs)}"
        )
