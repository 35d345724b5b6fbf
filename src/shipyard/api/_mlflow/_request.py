"""Reading MLflow request fields: each problem is an ``InvalidInput`` naming the field.

MLflow's client sends GET arguments as query parameters and the rest as a JSON object;
64-bit integers may come as JSON numbers or as strings of digits (proto3 JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shipyard.errors import InvalidInput

INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class MlflowRequest:
    """One request's arguments: the JSON body (or query), the path's own parameters."""

    fields: dict[str, Any]
    path: dict[str, str] = field(default_factory=dict)
    content: bytes = b""

    def text(self, name: str, *, required: bool = True, default: str = "") -> str:
        value = self.fields.get(name)
        if value is None or value == "":
            if required:
                raise InvalidInput(f"missing value for required parameter {name!r}", field=name)
            return default
        if not isinstance(value, str):
            raise InvalidInput("must be a string", field=name)
        return value

    def integer(self, name: str, *, default: int | None = None) -> int | None:
        value = self.fields.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput("must be an integer", field=name)
        if not INT64[0] <= value <= INT64[1]:
            raise InvalidInput("must fit in a signed 64-bit integer", field=name)
        return value

    def number(self, name: str) -> float:
        value = self.fields.get(name)
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise InvalidInput("must be a number", field=name) from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(
                f"missing value for required parameter {name!r}"
                if value is None
                else "must be a number",
                field=name,
            )
        return float(value)

    def strings(self, name: str) -> list[str]:
        value = self.fields.get(name)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidInput("must be a list of strings", field=name)
        return value

    def objects(self, name: str) -> list[MlflowRequest]:
        """A list of JSON objects (``metrics``, ``params``, ``tags``), each readable by field."""
        value = self.fields.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise InvalidInput("must be a list of objects", field=name)
        return [MlflowRequest(v) for v in value]

    def key_values(self, name: str) -> dict[str, str]:
        """``[{"key": k, "value": v}, ...]`` as a dict; fields named ``name.<i>.key``."""
        pairs: dict[str, str] = {}
        for i, item in enumerate(self.objects(name)):
            key, value = item.fields.get("key"), item.fields.get("value", "")
            if not isinstance(key, str) or not key:
                raise InvalidInput("must be a non-empty string", field=f"{name}.{i}.key")
            if not isinstance(value, str):
                raise InvalidInput("must be a string", field=f"{name}.{i}.value")
            pairs[key] = value
        return pairs


def run_id_of(request: MlflowRequest) -> str:
    """``run_id``, or the older ``run_uuid`` MLflow clients still send."""
    if request.fields.get("run_id") in (None, "") and request.fields.get("run_uuid"):
        return request.text("run_uuid")
    return request.text("run_id")
