"""The base of every wire type: its validator is built on first use, not at import.

A CLI command or an SDK call uses a handful of the few hundred models here; building all
of them when the modules load would cost more than the rest of the start-up together.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class WireModel(BaseModel):
    """A pydantic model whose schema is built when it first validates or serializes."""

    model_config = ConfigDict(defer_build=True)
