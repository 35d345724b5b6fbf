"""``POST /feedback``: ground-truth labels for answered requests, queued for a batched write."""

from __future__ import annotations

from collections import deque
from typing import Any

from shipyard.errors import InvalidInput
from shipyard.serving._formats import parse_json

MAX_RECORDS = 10_000
MAX_REQUEST_ID = 64


def parse_feedback(body: bytes) -> list[tuple[str, Any]]:
    """``[{"request_id": ..., "label": ...}, ...]`` (or ``{"records": [...]}``) as pairs."""
    payload = parse_json(body)
    records = payload.get("records") if isinstance(payload, dict) else payload
    where = "records" if isinstance(payload, dict) else "body"
    if not isinstance(records, list) or not records:
        raise InvalidInput(
            'expected a non-empty list of {"request_id": ..., "label": ...}', field=where
        )
    if len(records) > MAX_RECORDS:
        raise InvalidInput(f"at most {MAX_RECORDS} records per call", field=where)
    pairs: list[tuple[str, Any]] = []
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise InvalidInput("expected an object", field=f"{where}[{i}]")
        unknown = next((key for key in record if key not in ("request_id", "label")), None)
        if unknown is not None:
            raise InvalidInput("unexpected key", field=f"{where}[{i}].{unknown}")
        request_id = record.get("request_id")
        if not isinstance(request_id, str) or not 0 < len(request_id) <= MAX_REQUEST_ID:
            raise InvalidInput(
                f"must be a string of 1 to {MAX_REQUEST_ID} characters (the X-Request-Id)",
                field=f"{where}[{i}].request_id",
            )
        if record.get("label") is None:
            raise InvalidInput("a label is required", field=f"{where}[{i}].label")
        pairs.append((request_id, record["label"]))
    return pairs


class FeedbackBuffer:
    """Labels waiting for the background writer; bounded, so callers learn when it is full."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._pairs: deque[tuple[str, Any]] = deque()

    def __len__(self) -> int:
        return len(self._pairs)

    def has_room(self, count: int) -> bool:
        return len(self._pairs) + count <= self.capacity

    def extend(self, pairs: list[tuple[str, Any]]) -> None:
        self._pairs.extend(pairs)

    def drain(self) -> dict[str, Any]:
        """Every queued label by request id (the latest wins); safe from another thread."""
        latest: dict[str, Any] = {}
        while self._pairs:
            request_id, label = self._pairs.popleft()
            latest[request_id] = label
        return latest
