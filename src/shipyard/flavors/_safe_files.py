"""The safe formats a code or PyTorch model may carry, checked before anything reads them.

safetensors (its header must tell the truth about every tensor), ``.npy`` without
object arrays (so no pickle), JSON, Parquet and ONNX (no external data, standard
operators). ``ModelArtifacts`` is what a code model's ``load`` receives: read-only
accessors that decode each format without running stored code.
"""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from shipyard.errors import IntegrityError, InvalidInput
from shipyard.flavors._artifact import looks_like_pickle, refuse_pickle
from shipyard.flavors._bundle import check_artifact_name

MAX_SAFETENSORS_HEADER = 100 << 20
_SAFETENSORS_SIZES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}


def check_safe_artifact(name: str, data: bytes) -> None:
    """Raise UnsafeArtifact or IntegrityError unless ``data`` is what its suffix claims."""
    check_artifact_name(name)
    if looks_like_pickle(data):
        raise refuse_pickle(f"artifact {name}")
    if name.endswith(".safetensors"):
        check_safetensors(data, name)
    elif name.endswith(".npy"):
        read_npy(data, name)
    elif name.endswith(".json"):
        _json(data, name)
    elif name.endswith(".parquet"):
        _parquet(data, name)
    else:
        from shipyard.flavors._onnx import check_onnx

        check_onnx(data)


def check_safetensors(data: bytes, name: str) -> dict[str, Any]:
    """The header of a safetensors file whose every entry fits the file; refuse any lie."""
    if len(data) < 8:
        raise IntegrityError(f"artifact {name} is too short to be safetensors")
    (size,) = struct.unpack("<Q", data[:8])
    if size > min(MAX_SAFETENSORS_HEADER, len(data) - 8):
        raise IntegrityError(f"artifact {name}: the safetensors header claims {size} bytes")
    try:
        header = orjson.loads(data[8 : 8 + size])
    except orjson.JSONDecodeError:
        raise IntegrityError(f"artifact {name}: the safetensors header is not JSON") from None
    if not isinstance(header, dict):
        raise IntegrityError(f"artifact {name}: the safetensors header is not an object")
    body = len(data) - 8 - size
    spans = []
    for key, entry in header.items():
        if key == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                raise IntegrityError(f"artifact {name}: __metadata__ must map text to text")
            continue
        spans.append(_tensor_span(name, key, entry, body))
    spans.sort()
    end = 0
    for start, stop in spans:
        if start != end:
            raise IntegrityError(f"artifact {name}: the tensors overlap or leave gaps")
        end = stop
    if end != body:
        raise IntegrityError(f"artifact {name}: the header does not cover the data it carries")
    return header


def _tensor_span(name: str, key: str, entry: Any, body: int) -> tuple[int, int]:
    lie = IntegrityError(f"artifact {name}: the safetensors entry {key!r} does not fit the file")
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise lie
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in _SAFETENSORS_SIZES or not isinstance(shape, list) or len(offsets) != 2:
        raise lie
    if not all(isinstance(n, int) and n >= 0 for n in [*shape, *offsets]):
        raise lie
    start, stop = offsets
    if not start <= stop <= body or stop - start != math.prod(shape) * _SAFETENSORS_SIZES[dtype]:
        raise lie
    return start, stop


def read_npy(data: bytes, name: str) -> np.ndarray:
    """A ``.npy`` array; object arrays (which need pickle) are refused."""
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as error:
        if "pickle" in str(error):
            raise refuse_pickle(f"artifact {name}") from None
        raise IntegrityError(f"artifact {name} is not a .npy array: {error}") from None
    except (OSError, EOFError) as error:
        raise IntegrityError(f"artifact {name} is not a .npy array: {error}") from None
    if not isinstance(array, np.ndarray):
        raise IntegrityError(f"artifact {name} is not a single .npy array")
    return array


def _json(data: bytes, name: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise IntegrityError(f"artifact {name} is not JSON: {error}") from None


def _parquet(data: bytes, name: str) -> pa.Table:
    if not (data.startswith(b"PAR1") and data.endswith(b"PAR1")):
        raise IntegrityError(f"artifact {name} is not Parquet")
    try:
        return pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as error:
        raise IntegrityError(f"artifact {name} is not readable Parquet: {error}") from None


class ModelArtifacts(Mapping[str, bytes]):
    """The artifacts registered with a code model, checked, read-only; decode by format."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        for name, data in files.items():
            check_safe_artifact(name, data)
        self._files = dict(files)

    def __getitem__(self, name: str) -> bytes:
        if name not in self._files:
            raise InvalidInput(
                f"the model has no artifact {name!r}; it has {sorted(self._files)}",
                field="artifacts",
            )
        return self._files[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def json(self, name: str) -> Any:
        return _json(self[name], name)

    def array(self, name: str) -> np.ndarray:
        return read_npy(self[name], name)

    def table(self, name: str) -> pa.Table:
        return _parquet(self[name], name)

    def tensors(self, name: str, framework: str = "numpy") -> dict[str, Any]:
        """The tensors of a safetensors artifact, as numpy arrays or (``"pt"``) torch tensors."""
        if framework not in ("numpy", "pt"):
            raise InvalidInput("must be 'numpy' or 'pt'", field="framework")
        if framework == "pt":
            from safetensors.torch import load as load_torch

            return dict(load_torch(self[name]))
        from safetensors.numpy import load as load_numpy

        return dict(load_numpy(self[name]))

    def onnx_session(self, name: str) -> Any:
        """An onnxruntime session of a checked ONNX artifact (one thread)."""
        import onnxruntime

        from shipyard.flavors._onnx import check_onnx

        data = self[name]
        check_onnx(data)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        return onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
