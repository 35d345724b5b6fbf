"""A monitored input: its name and the signature type that decides its statistics."""

from __future__ import annotations

from dataclasses import dataclass

NUMERIC_TYPES = frozenset({"integer", "float", "timestamp"})


@dataclass(frozen=True)
class Feature:
    name: str
    type: str

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_TYPES
