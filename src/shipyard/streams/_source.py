"""The broker interface every stream source implements, shaped after a Kafka consumer.

A consumer polls messages, and acknowledges them with ``commit`` only after the
records they carry are durably committed; anything polled but not committed is
delivered again after a crash. A Kafka source maps ``partition``/``offset`` to
its topic partition and offset and ``commit`` to committing ``offset + 1``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self


@dataclass(frozen=True, slots=True)
class Message:
    """One record as a broker delivered it."""

    offset: str
    partition: str
    key: str | None
    value: bytes
    handle: object = field(default=None, compare=False, repr=False)


class StreamSource(ABC):
    """Reads a broker on behalf of one consumer of one stream."""

    @abstractmethod
    def poll(self, max_messages: int, timeout: float) -> list[Message]:
        """Up to ``max_messages`` messages, waiting at most ``timeout`` seconds for the first."""

    @abstractmethod
    def commit(self, messages: Sequence[Message]) -> None:
        """Acknowledge messages whose records are durably committed (or rejected)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections; unacknowledged messages stay with the broker."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class StreamProducer(ABC):
    """Appends records to a broker, as the ingest endpoint does for accepted records."""

    @abstractmethod
    def publish(self, records: Sequence[tuple[str | None, bytes]]) -> list[str]:
        """Append ``(key, value)`` records in order; returns their offsets."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
