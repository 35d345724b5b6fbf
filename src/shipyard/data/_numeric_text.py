"""Text columns that are numbers except for a few cells: found, counted and named at ingest.

CSV readers infer a column's type from its cells, so one ``?`` among a thousand ages makes
the whole column text. The column stays text (nothing is lost or guessed), but the ingest
says so: which column, how many cells are not numbers, and the first of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from shipyard.schemas.datasets import ColumnTypeWarning

BatchT = TypeVar("BatchT", pa.RecordBatch, pa.Table)

EXAMPLES = 5
"""How many distinct non-numeric values a warning quotes."""
MOSTLY = 0.8
"""A text column is "numeric but for a few cells" when at least this share of its non-null
cells are numbers."""

# What Arrow's CSV reader parses as a number: optional spaces and sign, digits with an
# optional fraction and exponent, or inf/infinity/nan.
_NUMBER = r"(?i)^\s*[-+]?((\d+\.?\d*|\.\d+)(e[-+]?\d+)?|inf|infinity|nan)\s*$"


@dataclass
class _Counts:
    numeric: int = 0
    non_numeric: int = 0
    examples: list[str] = field(default_factory=list)
    more: bool = False  # distinct non-numeric values beyond the examples

    def note(self, values: list[str]) -> None:
        for value in values:
            if value in self.examples:
                continue
            if len(self.examples) == EXAMPLES:
                self.more = True
                return
            self.examples.append(value)


class NumericTextScan:
    """Count numeric and non-numeric cells of every text column over a table's batches."""

    def __init__(self) -> None:
        self._counts: dict[str, _Counts] = {}

    def observe(self, batch: pa.RecordBatch | pa.Table) -> None:
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
                continue
            counts = self._counts.setdefault(name, _Counts())
            present = pc.drop_null(column)
            if len(present) == 0:
                continue
            is_number = pc.match_substring_regex(present, _NUMBER)
            numbers = pc.sum(is_number).as_py() or 0
            counts.numeric += numbers
            counts.non_numeric += len(present) - numbers
            if numbers < len(present) and not counts.more:
                counts.note(pc.unique(pc.filter(present, pc.invert(is_number))).to_pylist())

    def passing(self, batches: Iterable[BatchT]) -> Iterator[BatchT]:
        """The same batches, each observed on its way through."""
        for batch in batches:
            self.observe(batch)
            yield batch

    def warnings(self) -> list[ColumnTypeWarning]:
        """A warning for every text column whose cells are mostly numbers."""
        found = []
        for name, counts in self._counts.items():
            cells = counts.numeric + counts.non_numeric
            if counts.non_numeric == 0 or counts.numeric < MOSTLY * cells:
                continue
            found.append(
                ColumnTypeWarning(
                    column=name,
                    non_numeric=counts.non_numeric,
                    numeric=counts.numeric,
                    examples=counts.examples,
                    message=numeric_text_message(
                        name, counts.non_numeric, counts.examples, more=counts.more
                    ),
                )
            )
        return found


def numeric_text_message(
    column: str, non_numeric: int, examples: list[str], *, more: bool = False
) -> str:
    """``column 'age' is text because of 3 non-numeric values: '?', 'abc', '12,5'``."""
    plural = "value" if non_numeric == 1 else "values"
    quoted = ", ".join(repr(value) for value in examples) + (", ..." if more else "")
    return f"column {column!r} is text because of {non_numeric} non-numeric {plural}: {quoted}"


def scan_numeric_text(table: pa.Table) -> list[ColumnTypeWarning]:
    """The warnings of one in-memory table."""
    scan = NumericTextScan()
    scan.observe(table)
    return scan.warnings()
