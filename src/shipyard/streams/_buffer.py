"""Records polled since the last commit: validated columns, record ids, rejections, messages."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa

from shipyard.streams._records import RecordSchema
from shipyard.streams._source import Message

_EXCERPT_BYTES = 200


@dataclass(frozen=True)
class RejectedMessage:
    """A polled message whose record was refused."""

    source: str
    offset: str
    reason: str
    excerpt: str


def excerpt(raw: bytes) -> str:
    """The start of a record's bytes, as text for people."""
    return raw[:_EXCERPT_BYTES].decode("utf-8", errors="replace")


class RecordBuffer:
    """What a consumer holds between commits; a record id seen twice is kept once."""

    def __init__(self, schema: RecordSchema) -> None:
        self.schema = schema
        self.clear()

    def clear(self) -> None:
        self.columns: list[list[Any]] = [[] for _ in self.schema.names]
        self.ids: list[str] = []
        self._seen: set[str] = set()
        self.messages: list[Message] = []
        self.rejections: list[RejectedMessage] = []
        self.duplicates = 0
        self.started: float | None = None
        self._spans: dict[str, tuple[str, str]] = {}

    @property
    def rows(self) -> int:
        return len(self.ids)

    def __len__(self) -> int:
        return len(self.messages)

    def age(self) -> float:
        """Seconds since the oldest message in the buffer arrived (0 when empty)."""
        return 0.0 if self.started is None else time.monotonic() - self.started

    def add(self, message: Message) -> None:
        """Validate one message's record and keep it, or keep the reason it was refused."""
        self.extend([message])

    def extend(self, messages: list[Message]) -> None:
        """Validate a poll's worth of messages; refused records keep their reasons."""
        if not messages:
            return
        if self.started is None:
            self.started = time.monotonic()
        self.messages.extend(messages)
        self._track_offsets(messages)
        decoded: list[Message] = []
        records: list[object] = []
        for message in messages:
            try:
                records.append(orjson.loads(message.value))
            except orjson.JSONDecodeError as error:
                self._reject(message, f"broken JSON: {error}")
                continue
            decoded.append(message)
        columns, reasons = self.schema.check_many(records)
        for index, reason in reasons.items():
            self._reject(decoded[index], reason)
        seen, ids = self._seen, self.ids
        keep: list[int] = []
        for position, value in enumerate(columns[self.schema.id_index]):
            record_id = str(value)
            if record_id in seen:
                self.duplicates += 1
                continue
            seen.add(record_id)
            ids.append(record_id)
            keep.append(position)
        if len(keep) < len(columns[0]):
            columns = [[column[i] for i in keep] for column in columns]
        for column, values in zip(self.columns, columns, strict=True):
            column.extend(values)

    def _reject(self, message: Message, reason: str) -> None:
        self.rejections.append(
            RejectedMessage(message.partition, message.offset, reason, excerpt(message.value))
        )

    def table(self, skip: set[str] | None = None) -> pa.Table:
        """The buffered records as Arrow, leaving out the record ids in ``skip``."""
        if not skip:
            return self.schema.table(self.columns)
        keep = [i for i, record_id in enumerate(self.ids) if record_id not in skip]
        return self.schema.table([[column[i] for i in keep] for column in self.columns])

    def _track_offsets(self, messages: list[Message]) -> None:
        partitions = {m.partition for m in messages}
        if len(partitions) == 1:
            partition = messages[0].partition
            first = self._spans.get(partition, (messages[0].offset, ""))[0]
            self._spans[partition] = (first, messages[-1].offset)
            return
        for message in messages:
            first = self._spans.get(message.partition, (message.offset, ""))[0]
            self._spans[message.partition] = (first, message.offset)

    def offsets(self) -> dict[str, tuple[str, str]]:
        """First and last offset polled per source partition."""
        return dict(self._spans)
