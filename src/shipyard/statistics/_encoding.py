"""JSON-safe encodings of numbers and arrays inside a serialized summary."""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

_NON_FINITE = {"inf": "Infinity", "-inf": "-Infinity", "nan": "NaN"}


def encode_array(values: np.ndarray[Any, Any]) -> str:
    """Little-endian bytes of a numeric array, base64: compact, and exact for every float."""
    little = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<"))
    return base64.b64encode(little.tobytes()).decode()


def decode_array(text: str, dtype: type[np.generic]) -> np.ndarray[Any, Any]:
    raw = base64.b64decode(text.encode(), validate=True)
    return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)


def encode_float(value: float | None) -> float | str | None:
    """A float as JSON carries it: non-finite values as the strings "Infinity", "NaN"."""
    if value is None or math.isfinite(value):
        return value
    return _NON_FINITE[str(value)]


def decode_float(value: Any) -> float | None:
    if value is None:
        return None
    return float(value)
