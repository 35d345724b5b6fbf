"""Data-plane audit events: denials and feedback writes, queued for the background writer.

The event loop only appends to a bounded buffer; the worker's control thread
writes the events in batches every tick and everything left on a clean shutdown.
A full buffer drops new events rather than slow the requests, counts them
(``shipyard_serving_dropped{kind="audit"}``) and reports the count in the
audit trail itself as one ``audit:DropEvents`` event.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shipyard.clock import utcnow

AUDITOR = "shipyard-serving"
"""The principal of the events the data plane records about itself."""
DROP_ACTION = "audit:DropEvents"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audit event, as ``shipyard.security.record_events`` stores it."""

    principal: str
    action: str
    resource: str
    outcome: str
    request_id: str
    detail: dict[str, Any] = field(default_factory=dict)
    time: datetime = field(default_factory=utcnow)


class AuditBuffer:
    """Events waiting to be written; appending never blocks and never grows past ``capacity``."""

    def __init__(self, capacity: int, resource: str) -> None:
        self.capacity = capacity
        self.resource = resource
        self.dropped = 0
        self._unreported = 0
        self._records: deque[AuditRecord] = deque()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._records)

    def offer(self, record: AuditRecord) -> None:
        """Queue ``record``, or count it dropped when the buffer is full."""
        with self._lock:
            if len(self._records) >= self.capacity:
                self.dropped += 1
                self._unreported += 1
            else:
                self._records.append(record)

    def drain(self) -> list[AuditRecord]:
        """Every queued event, oldest first, then one event counting those dropped since."""
        with self._lock:
            records = list(self._records)
            self._records.clear()
            dropped, self._unreported = self._unreported, 0
        if dropped:
            records.append(
                AuditRecord(
                    AUDITOR,
                    DROP_ACTION,
                    self.resource,
                    "dropped",
                    "",
                    {"dropped": dropped, "reason": "audit buffer full"},
                )
            )
        return records

    def requeue(self, records: list[AuditRecord]) -> None:
        """Put back events a failed write did not store, ahead of newer ones, within capacity."""
        with self._lock:
            room = self.capacity - len(self._records)
            kept = [r for r in records if r.action != DROP_ACTION]
            dropped_before = sum(r.detail["dropped"] for r in records if r.action == DROP_ACTION)
            lost = max(len(kept) - room, 0)
            self._records.extendleft(reversed(kept[: len(kept) - lost]))
            self.dropped += lost
            self._unreported += lost + dropped_before
