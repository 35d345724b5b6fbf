"""The base of every column check, and what a check reports for one part of the data."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.contracts._stats import Moments
from shipyard.data import ColumnType
from shipyard.schemas.contract_spec import Check, Severity

ANY_TYPE: frozenset[ColumnType] = frozenset(
    {"integer", "float", "string", "boolean", "timestamp", "date"}
)
Values = Any
SAMPLE_ROWS = 5


@dataclass(frozen=True)
class Outcome:
    """What one row-level check found in one part."""

    failing: int
    positions: np.ndarray | None
    gathered: Any


def first_true(mask: Values, limit: int) -> np.ndarray:
    """Positions of the first ``limit`` true values, reading as few chunks as needed."""
    chunks = mask.chunks if isinstance(mask, pa.ChunkedArray) else [mask]
    found: list[np.ndarray] = []
    offset = total = 0
    for chunk in chunks:
        if chunk.null_count:
            hits = np.flatnonzero(chunk.to_numpy(zero_copy_only=False))[: limit - total]
        else:
            hits = _set_bits(chunk, limit - total)
        hits = hits + offset
        found.append(hits)
        total += len(hits)
        offset += len(chunk)
        if total >= limit:
            break
    return np.concatenate(found) if found else np.empty(0, np.int64)


def _set_bits(chunk: pa.BooleanArray, limit: int) -> np.ndarray:
    """The first ``limit`` true positions, read from the packed bits.

    Converting a boolean chunk to numpy unpacks every bit; the first hits usually lie in
    the first few bytes.
    """
    n, start = len(chunk), chunk.offset
    packed = np.frombuffer(chunk.buffers()[1], np.uint8)[start // 8 : (start + n + 7) // 8]
    found: list[int] = []
    # each byte read holds a hit, except perhaps the first and last (bits outside the chunk)
    for index in np.flatnonzero(packed)[: max(limit, 0) + 2].tolist():
        byte = int(packed[index])
        for bit in range(8):
            position = index * 8 + bit - start % 8
            if byte >> bit & 1 and 0 <= position < n:
                found.append(position)
                if len(found) == limit:
                    return np.array(found, np.int64)
    return np.array(found, np.int64)


class NotEvaluable(Exception):
    """A check cannot run on this column (wrong type, bounds of the wrong kind)."""


class ColumnCheck(ABC):
    """One check of a contract bound to one column of known type."""

    name: ClassVar[str]
    types: ClassVar[frozenset[ColumnType]] = ANY_TYPE
    row_level: ClassVar[bool] = True
    needs_missing: ClassVar[bool] = False
    """Whether only missing values can fail it (so a part without any passes at once)."""

    def __init__(
        self,
        column: str,
        spec: Check,
        severity: Severity,
        kind: ColumnType,
        arrow_type: pa.DataType | None = None,
    ) -> None:
        self.column, self.spec, self.severity, self.kind = column, spec, severity, kind
        if kind not in self.types:
            wanted = " or ".join(sorted(self.types))
            raise NotEvaluable(f"{self.name} needs a {wanted} column; {column!r} is {kind}")
        self.prepare(arrow_type)

    def prepare(self, arrow_type: pa.DataType | None) -> None:
        """Convert the check's parameters to the column's type; NotEvaluable if they do not fit."""
        return None

    @abstractmethod
    def expected(self) -> Any: ...

    def failing(self, values: Values, missing: Values | None) -> Values:
        """Which rows fail, as a boolean array without nulls; ``missing`` None: none is."""
        raise NotImplementedError

    def evaluate(self, values: Values, missing: Values | None, want: bool) -> Outcome:
        """The failing rows of one part: how many, where the first few are, and extras."""
        mask = self.failing(values, missing)
        count = pc.sum(mask).as_py() or 0
        positions = first_true(mask, SAMPLE_ROWS) if count and want else None
        return Outcome(count, positions, self.gather(values, mask if count else None))

    def gather(self, values: Values, failing: Values | None) -> Any:
        """What the verdict needs beyond counts, from one part."""
        return None

    def combine(self, first: Any, second: Any) -> Any:
        return first if second is None else second

    @abstractmethod
    def verdict(self, failing: int, rows: int, moments: Moments, gathered: Any) -> tuple[bool, Any]:
        """Whether the check passed, and the observed value to report."""
