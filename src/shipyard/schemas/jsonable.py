"""Plain JSON data from wire types: what the REST app sends and the SDK's transports return."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def to_jsonable(value: Any) -> Any:
    """Plain JSON data from a service result (models, lists of models, dicts)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    return value
