"""The Open Inference Protocol (KServe V2): request tensors in, output tensors out."""

from __future__ import annotations

from typing import Any

import numpy as np

from shipyard.errors import InvalidInput
from shipyard.flavors._base import ColumnType, ModelSignature, Prediction
from shipyard.flavors._signature_check import accepts
from shipyard.serving._enrich import RequestColumns
from shipyard.serving._features import FeatureBuilder, Features
from shipyard.serving._formats import may_hold_booleans, parse_json

_FLOAT_TYPES = frozenset({"FP16", "FP32", "FP64"})
_INT_TYPES = frozenset({"INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"})
_DATATYPES = _FLOAT_TYPES | _INT_TYPES | {"BOOL", "BYTES"}
_DATATYPE_KIND = {
    **dict.fromkeys(_FLOAT_TYPES, "float"),
    **dict.fromkeys(_INT_TYPES, "integer"),
    "BOOL": "boolean",
    "BYTES": "string",
}
# Datatypes per column type, by the one signature rule; timestamps travel as epoch numbers
# or ISO text, so they take numeric and BYTES tensors.
_ACCEPTED: dict[ColumnType, frozenset[str]] = {
    kind: frozenset(d for d, given in _DATATYPE_KIND.items() if accepts(kind, given))
    for kind in ("float", "integer", "boolean", "string")
} | {"timestamp": _FLOAT_TYPES | _INT_TYPES | {"BYTES"}}
_COLUMN_DATATYPE: dict[ColumnType, str] = {
    "float": "FP64",
    "integer": "INT64",
    "boolean": "BOOL",
    "string": "BYTES",
    "timestamp": "BYTES",
}
OUTPUT_NAMES = ("predictions", "probabilities")


class InferRequest:
    """A parsed V2 infer request: its id, the model input, and the outputs asked for."""

    __slots__ = ("features", "id", "outputs")

    def __init__(self, request_id: object, features: Features, outputs: tuple[str, ...]) -> None:
        self.id = request_id
        self.features = features
        self.outputs = outputs


def parse_infer(body: bytes, builder: FeatureBuilder) -> InferRequest:
    """Read a V2 infer body: one tensor per column, or one [rows, columns] tensor."""
    payload = parse_json(body)
    if not isinstance(payload, dict):
        raise InvalidInput('expected a JSON object with "inputs"', field="body")
    tensors = payload.get("inputs")
    if not isinstance(tensors, list) or not tensors:
        raise InvalidInput("expected a non-empty list of input tensors", field="inputs")
    checked = may_hold_booleans(body)
    for i, tensor in enumerate(tensors):
        _check_tensor(tensor, f"inputs[{i}]")
    first = tensors[0]
    if len(tensors) == 1 and len(first["shape"]) == 2 and first["name"] not in builder.types:
        features = _matrix_input(first, builder, checked)
    else:
        features = _column_inputs(tensors, builder, checked)
    request_id = payload.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidInput("must be a string", field="id")
    return InferRequest(request_id, features, _requested_outputs(payload.get("outputs")))


def parse_infer_columns(body: bytes) -> tuple[RequestColumns, object, tuple[str, ...]]:
    """Read a V2 infer body as named columns (one tensor per column), for an enriched endpoint.

    Returns the columns, the request id and the outputs asked for; values are checked
    later, against the entity key types and the model's signature.
    """
    payload = parse_json(body)
    if not isinstance(payload, dict):
        raise InvalidInput('expected a JSON object with "inputs"', field="body")
    tensors = payload.get("inputs")
    if not isinstance(tensors, list) or not tensors:
        raise InvalidInput("expected a non-empty list of input tensors", field="inputs")
    columns: dict[str, list[Any]] = {}
    rows = -1
    for i, tensor in enumerate(tensors):
        _check_tensor(tensor, f"inputs[{i}]")
        name, shape = tensor["name"], tensor["shape"]
        if len(shape) == 2 and shape[1] != 1:
            raise InvalidInput(
                "an endpoint with online features takes one tensor per column, "
                "of shape [rows] or [rows, 1]",
                field=name,
            )
        if name in columns:
            raise InvalidInput("tensor given more than once", field=name)
        data = _flat(tensor)
        if len(data) != shape[0]:
            raise InvalidInput(f"has {len(data)} values, shape says {shape[0]}", field=name)
        if rows < 0:
            rows = len(data)
        elif len(data) != rows:
            raise InvalidInput(f"has {len(data)} rows where other tensors have {rows}", field=name)
        columns[name] = data
    if rows == 0:
        raise InvalidInput("expected at least one row", field="inputs")
    request_id = payload.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidInput("must be a string", field="id")
    outputs = _requested_outputs(payload.get("outputs"))
    return RequestColumns(columns, rows), request_id, outputs


def _check_tensor(tensor: object, where: str) -> None:
    if not isinstance(tensor, dict):
        raise InvalidInput("expected a tensor object", field=where)
    for key in ("name", "shape", "datatype", "data"):
        if key not in tensor:
            raise InvalidInput(f"tensor has no {key!r}", field=where)
    if not isinstance(tensor["name"], str):
        raise InvalidInput("tensor name must be a string", field=where)
    shape = tensor["shape"]
    if (
        not isinstance(shape, list)
        or not 1 <= len(shape) <= 2
        or not all(type(n) is int and n >= 0 for n in shape)
    ):
        raise InvalidInput("shape must be [rows] or [rows, columns]", field=tensor["name"])
    if not isinstance(tensor["data"], list):
        raise InvalidInput("data must be a list", field=tensor["name"])
    datatype = tensor["datatype"]
    if not isinstance(datatype, str) or datatype not in _DATATYPES:
        raise InvalidInput(f"unknown datatype {datatype!r:.40}", field=tensor["name"])


def _flat(tensor: dict[str, Any]) -> list[Any]:
    data: list[Any] = tensor["data"]
    if data and isinstance(data[0], list):
        data = [value for row in data for value in (row if isinstance(row, list) else [row])]
    return data


def _matrix_input(tensor: dict[str, Any], builder: FeatureBuilder, checked: bool) -> Features:
    rows, width = tensor["shape"]
    name = tensor["name"]
    if width != len(builder.names):
        raise InvalidInput(f"has {width} columns, the model takes {len(builder.names)}", field=name)
    kinds = {builder.types[column] for column in builder.names}
    if tensor["datatype"] not in _FLOAT_TYPES | _INT_TYPES or kinds - {"float", "integer"}:
        raise InvalidInput(
            "a single 2-D tensor needs a numeric datatype and an all-numeric model; "
            "send one tensor per column instead",
            field=name,
        )
    data = tensor["data"]
    if data and not isinstance(data[0], list):
        if len(data) != rows * width:
            raise InvalidInput(f"has {len(data)} values, shape needs {rows * width}", field=name)
        data = [data[i : i + width] for i in range(0, len(data), width)]
    elif len(data) != rows:
        raise InvalidInput(f"has {len(data)} rows, shape says {rows}", field=name)
    return builder.from_rows(data, None, where=name, checked=checked)


def _column_inputs(
    tensors: list[dict[str, Any]], builder: FeatureBuilder, checked: bool
) -> Features:
    columns: dict[str, list[Any]] = {}
    for tensor in tensors:
        name = tensor["name"]
        kind = builder.types.get(name)
        if kind is None:
            continue
        shape = tensor["shape"]
        if len(shape) == 2 and shape[1] != 1:
            raise InvalidInput("a column tensor must have shape [rows] or [rows, 1]", field=name)
        if tensor["datatype"] not in _ACCEPTED[kind]:
            raise InvalidInput(
                f"datatype {tensor['datatype']!r} does not fit a {kind} column", field=name
            )
        data = _flat(tensor)
        if len(data) != shape[0]:
            raise InvalidInput(f"has {len(data)} values, shape says {shape[0]}", field=name)
        columns[name] = data
    names = [tensor["name"] for tensor in tensors]
    if len(set(names)) != len(names):
        duplicate = next(name for name in names if names.count(name) > 1)
        raise InvalidInput("tensor given more than once", field=duplicate)
    return builder.from_columns(
        {name: columns.get(name) for name in names}, where="inputs", checked=checked
    )


def _requested_outputs(outputs: object) -> tuple[str, ...]:
    if outputs is None:
        return OUTPUT_NAMES
    if not isinstance(outputs, list):
        raise InvalidInput("expected a list of output objects", field="outputs")
    names: list[str] = []
    for output in outputs:
        name = output.get("name") if isinstance(output, dict) else None
        if name not in OUTPUT_NAMES:
            raise InvalidInput(
                f"unknown output {name!r}; outputs are {OUTPUT_NAMES}", field="outputs"
            )
        names.append(name)
    return tuple(names)


def _datatype(array: np.ndarray) -> str:
    kind, size = array.dtype.kind, array.dtype.itemsize
    if kind == "f":
        return f"FP{size * 8}"
    if kind in ("i", "u"):
        return f"{'U' if kind == 'u' else ''}INT{size * 8}"
    return "BOOL" if kind == "b" else "BYTES"


def infer_response(
    request: InferRequest, prediction: Prediction, model_name: str, model_version: str
) -> dict[str, Any]:
    """The V2 response body for one prediction."""
    outputs: list[dict[str, Any]] = []
    for name in request.outputs:
        array = prediction.predictions if name == "predictions" else prediction.probabilities
        if array is None:
            continue
        outputs.append(
            {
                "name": name,
                "shape": list(array.shape),
                "datatype": _datatype(array),
                "data": array.ravel(),
            }
        )
    response: dict[str, Any] = {
        "model_name": model_name,
        "model_version": model_version,
        "outputs": outputs,
    }
    if request.id is not None:
        response["id"] = request.id
    return response


def model_metadata(
    signature: ModelSignature, name: str, version: str, platform: str
) -> dict[str, Any]:
    """The V2 model metadata document: name, versions, platform, input and output tensors."""
    outputs: list[dict[str, Any]] = [{"name": "predictions", "datatype": "BYTES", "shape": [-1]}]
    if signature.task == "regression":
        outputs[0]["datatype"] = "FP64"
    elif signature.classes is not None:
        if all(isinstance(c, int) and not isinstance(c, bool) for c in signature.classes):
            outputs[0]["datatype"] = "INT64"
        outputs.append(
            {"name": "probabilities", "datatype": "FP64", "shape": [-1, len(signature.classes)]}
        )
    return {
        "name": name,
        "versions": [version],
        "platform": platform,
        "inputs": [
            {"name": c.name, "datatype": _COLUMN_DATATYPE[c.type], "shape": [-1]}
            for c in signature.inputs
        ],
        "outputs": outputs,
    }
