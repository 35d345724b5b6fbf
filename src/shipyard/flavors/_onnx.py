"""The onnx flavor: ONNX models (edge exports) run by onnxruntime, checked before they load.

An artifact must parse as an ONNX model, pass the ONNX checker, use only the
standard operator domains, keep every tensor inside the file (no external data
paths) and have inputs and outputs that fit the signature. Rows go in either as
one matrix input in signature order or as one input per column (models with
string columns); classifiers must expose a ``probabilities`` tensor.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import onnx
import onnxruntime
import pandas as pd
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

from shipyard.errors import IntegrityError, InvalidInput, UnsafeArtifact
from shipyard.flavors._arrays import as_matrix, class_array, float_column, string_values
from shipyard.flavors._artifact import looks_like_pickle, refuse_pickle
from shipyard.flavors._base import ModelSignature, Prediction, Predictor

FLAVOR = "onnx"
STANDARD_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml"})
_NUMERIC: dict[str, Any] = {"tensor(float)": np.float32, "tensor(double)": np.float64}
_STATE = onnxruntime.capi.onnxruntime_pybind11_state
_RUNTIME_ERRORS: tuple[type[Exception], ...] = tuple(
    getattr(_STATE, name)
    for name in ("Fail", "InvalidArgument", "InvalidGraph", "NotImplemented", "RuntimeException")
    if hasattr(_STATE, name)
)


def check_onnx(data: bytes) -> onnx.ModelProto:
    """Parse and check ONNX bytes; refuse pickles, custom domains and external data."""
    if looks_like_pickle(data):
        raise refuse_pickle("the onnx artifact")
    try:
        model = onnx.load_model_from_string(data)
    except (DecodeError, ValueError) as exc:
        raise IntegrityError(f"the artifact is not a valid ONNX model: {exc}") from None
    for tensor in _tensors(model.graph):
        if tensor.data_location == onnx.TensorProto.EXTERNAL or tensor.external_data:
            raise UnsafeArtifact(f"the ONNX tensor {tensor.name!r} references an external file")
    domains = {o.domain for o in model.opset_import}
    domains |= {node.domain for graph in _graphs(model.graph) for node in graph.node}
    if not domains <= STANDARD_DOMAINS:
        custom = sorted(domains - STANDARD_DOMAINS)
        raise UnsafeArtifact(f"the ONNX model uses custom operator domains {custom}")
    try:
        onnx.checker.check_model(model)
    except (ValueError, onnx.checker.ValidationError) as exc:
        raise IntegrityError(f"the artifact is not a valid ONNX model: {exc}") from None
    if not model.graph.node:
        raise IntegrityError("the artifact is not a valid ONNX model: its graph is empty")
    if model.functions:
        raise IntegrityError("ONNX models with model-local functions are not supported")
    return model


def _graphs(graph: onnx.GraphProto) -> Iterator[onnx.GraphProto]:
    yield graph
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("g"):
                yield from _graphs(attribute.g)
            for sub in attribute.graphs:
                yield from _graphs(sub)


def _tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    for sub in _graphs(graph):
        yield from sub.initializer
        for node in sub.node:
            for attribute in node.attribute:
                if attribute.HasField("t"):
                    yield attribute.t
                yield from attribute.tensors


def dump_onnx(model: onnx.ModelProto) -> bytes:
    """The bytes of an ONNX model, refusing anything a load would refuse."""
    data: bytes = model.SerializeToString()
    check_onnx(data)
    return data


def load_onnx(data: bytes, signature: ModelSignature) -> OnnxPredictor:
    """Check ONNX bytes, start an onnxruntime session on one thread, fit it to the signature."""
    check_onnx(data)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    except _RUNTIME_ERRORS as exc:
        raise IntegrityError(f"onnxruntime could not load the model: {exc}") from None
    return OnnxPredictor(session, signature)


@dataclass(frozen=True)
class Layout:
    """How rows enter the model: one matrix input, or one ``(n, 1)`` input per column."""

    matrix: str | None
    dtypes: dict[str, Any]
    output: str


def layout_of(session: Any, signature: ModelSignature) -> Layout:
    """Match the session's inputs and outputs to the signature; IntegrityError if they differ."""
    inputs = {i.name: i for i in session.get_inputs()}
    names = signature.input_names
    width = len(names)
    if len(inputs) == 1 and set(inputs) != set(names):
        (only,) = inputs.values()
        if only.type not in _NUMERIC or not only.shape or only.shape[-1] not in (width, None):
            raise IntegrityError(
                f"the ONNX input {only.name!r} ({only.type}, shape {only.shape}) does not take "
                f"rows of {width} numbers"
            )
        if not signature.all_numeric:
            raise IntegrityError("the ONNX model takes a matrix but the signature has strings")
        return Layout(only.name, {only.name: _NUMERIC[only.type]}, _output(session, signature))
    if set(inputs) != set(names):
        raise IntegrityError(
            f"the ONNX model's inputs {sorted(inputs)} do not match the signature's {names}"
        )
    dtypes: dict[str, Any] = {}
    for column in signature.inputs:
        kind = inputs[column.name].type
        if column.type == "string" and kind == "tensor(string)":
            dtypes[column.name] = object
        elif column.type != "string" and kind in _NUMERIC:
            dtypes[column.name] = _NUMERIC[kind]
        else:
            raise IntegrityError(
                f"the ONNX input {column.name!r} is {kind}, the signature says {column.type}"
            )
    return Layout(None, dtypes, _output(session, signature))


def _output(session: Any, signature: ModelSignature) -> str:
    outputs = {o.name: o for o in session.get_outputs()}
    wanted = "probabilities" if signature.task == "classification" else "variable"
    if wanted not in outputs and signature.task == "regression" and len(outputs) == 1:
        wanted = next(iter(outputs))
    if wanted not in outputs or outputs[wanted].type not in _NUMERIC:
        raise IntegrityError(
            f"the ONNX model has no numeric {wanted!r} output for a {signature.task} signature"
        )
    shape = outputs[wanted].shape
    classes = len(signature.classes or [])
    if signature.task == "classification" and len(shape) == 2 and shape[1] not in (classes, None):
        raise IntegrityError(
            f"the ONNX model gives {shape[1]} probabilities, the signature has {classes} classes"
        )
    return wanted


class OnnxPredictor(Predictor):
    """Predicts with an onnxruntime session; labels come from the signature's classes."""

    flavor: ClassVar[str] = FLAVOR

    def __init__(self, model: Any, signature: ModelSignature) -> None:
        super().__init__(model, signature)
        self.layout = layout_of(model, signature)
        self._accepts_ndarray = self.layout.matrix is not None
        self._classes = class_array(signature)
        self._outputs = [self.layout.output]
        self._run = model.run

    @property
    def fast_path(self) -> bool:
        return self.layout.matrix is not None

    def predict(self, features: np.ndarray | pd.DataFrame) -> Prediction:
        try:
            (output,) = self._run(self._outputs, self._feeds(features))
        except _RUNTIME_ERRORS as exc:
            raise InvalidInput(f"the model rejected the input: {exc}", field="features") from None
        values = np.asarray(output, dtype=np.float64)
        if self._classes is None:
            return Prediction(values.reshape(-1))
        if values.ndim != 2 or values.shape[1] != len(self._classes):
            raise IntegrityError(f"the ONNX model returned probabilities of shape {values.shape}")
        return Prediction(self._classes[values.argmax(axis=1)], values)

    def _feeds(self, features: np.ndarray | pd.DataFrame) -> dict[str, np.ndarray]:
        layout = self.layout
        if layout.matrix is not None:
            x = as_matrix(features, self.signature)
            dtype = layout.dtypes[layout.matrix]
            return {layout.matrix: x if dtype is np.float64 else x.astype(dtype)}
        if not isinstance(features, pd.DataFrame):
            raise InvalidInput(
                f"this model takes a DataFrame with columns {self.signature.input_names}",
                field="features",
            )
        missing = [c for c in self.signature.input_names if c not in features.columns]
        if missing:
            raise InvalidInput(f"missing input columns {missing}", field="features")
        feeds: dict[str, np.ndarray] = {}
        for name, dtype in layout.dtypes.items():
            if dtype is object:
                text = string_values(features[name].to_numpy(dtype=object))
                text[[value is None for value in text]] = ""
                feeds[name] = text.reshape(-1, 1)
            else:
                feeds[name] = float_column(features[name], name).astype(dtype).reshape(-1, 1)
        return feeds
