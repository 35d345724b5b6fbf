"""The online store interface: the latest feature values of each entity, by view and key."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class OnlineRecord:
    """What the store holds for one entity of one view: event time (µs since epoch) and values."""

    event_time_us: int
    values: dict[str, Any]


@dataclass(frozen=True)
class OnlineBatch:
    """Rows to upsert into one view: store keys, event times (µs), JSON objects of values."""

    keys: Sequence[str]
    event_times_us: Sequence[int]
    payloads: Sequence[str]

    def __len__(self) -> int:
        return len(self.keys)


class OnlineStore(ABC):
    """Key-value storage of the latest feature values; every backend passes one contract suite.

    A write replaces an entity's record only with one whose event time is the same or newer,
    so loading an older time range after a newer one never moves values back in time.
    """

    @abstractmethod
    def write(self, view: str, batch: OnlineBatch) -> int:
        """Upsert ``batch`` into ``view``; returns how many rows were offered."""

    @abstractmethod
    def read(
        self, requests: Sequence[tuple[str, Sequence[str]]]
    ) -> list[list[OnlineRecord | None]]:
        """One batched read: for each ``(view, keys)``, each key's record or None."""

    @abstractmethod
    def delete_view(self, view: str) -> int:
        """Drop every record of ``view``; returns how many there were."""

    def read_view(self, view: str, keys: Sequence[str]) -> list[OnlineRecord | None]:
        """The records of ``keys`` in one view."""
        return self.read([(view, keys)])[0]

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> OnlineStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
