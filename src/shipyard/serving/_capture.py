"""Data capture: answered requests recorded in memory, written out later as hourly Parquet.

Recording keeps references only (no serialisation on the request path); the
background writer turns a batch of records into one Parquet file per hour with
the columns ``request_id``, ``time`` (UTC), ``variant``, ``model_version``,
``input`` (JSON ``{"columns": [...], "data": [[...], ...]}``) and ``output``
(JSON ``{"prediction": ..., "probabilities": ...}``, a scalar and one list for a
one-row request, lists in row order otherwise).
"""

from __future__ import annotations

import io
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pandas as pd

from shipyard.flavors._base import Prediction
from shipyard.serving._features import Features

if TYPE_CHECKING:
    import pyarrow as pa

    from shipyard.serving._slot import ModelSlot

_JSON = orjson.OPT_SERIALIZE_NUMPY


@dataclass(frozen=True)
class CaptureRecord:
    """One captured request (or shadow answer), as recorded on the request path."""

    request_id: str
    time: float
    variant: str
    model_version: str
    columns: tuple[str, ...]
    features: Features | None
    prediction: Prediction | None


class CaptureBuffer:
    """A bounded in-memory queue of records; full means the record is dropped and counted."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._records: deque[CaptureRecord] = deque()
        self.recorded = 0
        self.dropped = 0
        self.oldest = 0.0

    def __len__(self) -> int:
        return len(self._records)

    def offer(
        self,
        request_id: str,
        variant: str,
        slot: ModelSlot,
        features: Features,
        prediction: Prediction,
        mode: str,
    ) -> None:
        """Record one answer; ``mode`` says which sides (input, output, both) to keep."""
        if len(self._records) >= self.capacity:
            self.dropped += 1
            return
        now = time.time()
        if not self._records:
            self.oldest = now
        self._records.append(
            CaptureRecord(
                request_id,
                now,
                variant,
                slot.model_version,
                slot.features.names,
                features if mode != "output" else None,
                prediction if mode != "input" else None,
            )
        )
        self.recorded += 1

    def requeue(self, records: list[CaptureRecord]) -> None:
        """Put records that could not be written back at the front, to retry."""
        self._records.extendleft(reversed(records))
        if self._records:
            self.oldest = self._records[0].time

    def drain(self, limit: int | None = None) -> list[CaptureRecord]:
        """Take up to ``limit`` records (all when None), oldest first; safe from another thread."""
        taken: list[CaptureRecord] = []
        while self._records and (limit is None or len(taken) < limit):
            taken.append(self._records.popleft())
        if self._records:
            self.oldest = self._records[0].time
        return taken


def _default(value: object) -> object:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def input_json(columns: tuple[str, ...], features: Features) -> str:
    if isinstance(features, pd.DataFrame):
        data: Any = features.to_numpy(dtype=object).tolist()
        columns = tuple(str(c) for c in features.columns)
    else:
        data = features
    return orjson.dumps({"columns": columns, "data": data}, default=_default, option=_JSON).decode()


def output_json(prediction: Prediction) -> str:
    values: Any = prediction.predictions
    probabilities: Any = prediction.probabilities
    if len(values) == 1:
        values = values[0]
        probabilities = None if probabilities is None else probabilities[0]
    document = {"prediction": values, "probabilities": probabilities}
    return orjson.dumps(document, default=_default, option=_JSON).decode()


def _version(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def hour_of(epoch: float) -> str:
    """The partition a record belongs to: its UTC hour as ``YYYY-MM-DDTHH``."""
    return time.strftime("%Y-%m-%dT%H", time.gmtime(epoch))


def capture_tables(records: list[CaptureRecord]) -> dict[str, pa.Table]:
    """The records as one Arrow table per UTC hour."""
    import pyarrow as pa

    hours: dict[str, list[CaptureRecord]] = {}
    for record in records:
        hours.setdefault(hour_of(record.time), []).append(record)
    schema = capture_schema()
    tables = {}
    for hour, part in hours.items():
        columns = {
            "request_id": [r.request_id for r in part],
            "time": [int(r.time * 1_000_000) for r in part],
            "variant": [r.variant for r in part],
            "model_version": [_version(r.model_version) for r in part],
            "input": [
                None if r.features is None else input_json(r.columns, r.features) for r in part
            ],
            "output": [None if r.prediction is None else output_json(r.prediction) for r in part],
        }
        tables[hour] = pa.table(columns, schema=schema)
    return tables


def capture_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            ("request_id", pa.string()),
            ("time", pa.timestamp("us", tz="UTC")),
            ("variant", pa.string()),
            ("model_version", pa.int64()),
            ("input", pa.string()),
            ("output", pa.string()),
        ]
    )


def parquet_bytes(table: pa.Table) -> bytes:
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()
