"""A table's mergeable summary: one ColumnSummary per column, and the row count."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa

from shipyard.data._schema import column_type
from shipyard.errors import InvalidInput
from shipyard.statistics._column import FORMAT, ColumnSummary
from shipyard.statistics._options import PROFILE, SummaryOptions
from shipyard.statistics._profile import DatasetProfile

_PARALLEL_ROWS = 50_000


class TableSummary:
    """Mergeable statistics of a table that arrives in batches (or of a window of traffic).

    ``update`` adds a batch (a pyarrow Table or RecordBatch, or a pandas DataFrame); a
    column absent from a batch counts that batch's rows as missing, and a column first seen
    later counts the earlier rows as missing. ``merge`` adds another summary (e.g. another
    worker's or window's); ``to_dict``/``from_dict`` serialize; ``profile`` gives the
    dataset profile document.
    """

    def __init__(self, options: SummaryOptions = PROFILE) -> None:
        self.options = options
        self.rows = 0
        self.columns: dict[str, ColumnSummary] = {}

    @classmethod
    def of(cls, batch: Any, options: SummaryOptions = PROFILE) -> TableSummary:
        """The summary of one table, record batch or DataFrame."""
        return cls(options).update(batch)

    @classmethod
    def for_schema(cls, schema: pa.Schema, options: SummaryOptions = PROFILE) -> TableSummary:
        """An empty summary with the schema's columns, in its order (types checked now)."""
        summary = cls(options)
        for field in schema:
            summary.columns[field.name] = ColumnSummary(
                field.name, column_type(field.name, field.type), options
            )
        return summary

    def update(self, batch: Any) -> TableSummary:
        """Add a batch of rows; returns self."""
        table = as_table(batch)
        for field in table.schema:
            if field.name not in self.columns:
                column = ColumnSummary(
                    field.name, column_type(field.name, field.type), self.options
                )
                column.rows = column.moments.missing = self.rows
                self.columns[field.name] = column
        for name, column in self.columns.items():
            if name not in table.column_names:
                column.rows += table.num_rows
                column.moments.missing += table.num_rows
        pairs = [(self.columns[name], table.column(name)) for name in table.column_names]
        if len(pairs) > 1 and table.num_rows >= _PARALLEL_ROWS:
            workers = min(len(pairs), os.cpu_count() or 1)
            with ThreadPoolExecutor(workers, thread_name_prefix="shipyard-summary") as pool:
                list(pool.map(lambda pair: pair[0].update(pair[1]), pairs))
        else:
            for summary, values in pairs:
                summary.update(values)
        self.rows += table.num_rows
        return self

    def merge(self, other: TableSummary) -> TableSummary:
        """Add every row ``other`` summarises; returns self."""
        for name, theirs in other.columns.items():
            mine = self.columns.get(name)
            if mine is None:
                mine = ColumnSummary(name, theirs.kind, self.options)
                mine.rows = mine.moments.missing = self.rows
                self.columns[name] = mine
            mine.merge(theirs)
        for name, mine in self.columns.items():
            if name not in other.columns:
                mine.rows += other.rows
                mine.moments.missing += other.rows
        self.rows += other.rows
        return self

    def approximations(self) -> dict[str, list[str]]:
        """Per column, the profile statistics that are estimates (columns with none left out)."""
        return {name: found for name, c in self.columns.items() if (found := c.approximations())}

    def profile(self, method: str | None = None) -> dict[str, Any]:
        """The dataset profile document: ``DatasetProfile``'s JSON (non-finite as strings).

        With ``method`` (e.g. "streaming"), it adds how each statistic was computed and
        which are estimates, as stored with dataset versions.
        """
        columns = [c.profile() for c in self.columns.values()]
        profile = DatasetProfile.model_validate({"rows": self.rows, "columns": columns})
        # Through JSON text, so infinities and NaN become the strings "Infinity" and "NaN".
        document: dict[str, Any] = json.loads(profile.model_dump_json())
        if method is not None:
            o = self.options
            document["method"] = {
                "kind": method,
                "quantiles": f"exact up to {o.exact_values} values, else a KLL sketch "
                f"(k={o.quantile_k}, rank error about {2 / o.quantile_k:.2%})",
                "distinct": f"exact below {o.distinct_k} values, else a k-minimum-values estimate",
                "top_values": f"exact below {o.top_cap} distinct values",
                "approximate": self.approximations(),
            }
        return document

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, versioned data that ``from_dict`` reads back."""
        return {
            "format": FORMAT,
            "rows": self.rows,
            "options": self.options.to_dict(),
            "columns": [c.to_dict() for c in self.columns.values()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableSummary:
        """The summary ``to_dict`` wrote; InvalidInput when the data is not one."""
        try:
            if data.get("format") != FORMAT:
                raise ValueError(f"unknown summary format {data.get('format')!r}")
            summary = cls(SummaryOptions(**data["options"]))
            summary.rows = int(data["rows"])
            columns = data["columns"]
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"not a table summary: {exc}", field="summary") from None
        for item in columns:
            column = ColumnSummary.from_dict(item)
            summary.columns[column.name] = column
        return summary

    @classmethod
    def from_profile(cls, document: dict[str, Any], options: SummaryOptions) -> TableSummary:
        """An approximate summary of a table known only by a stored profile document."""
        summary = cls(options)
        summary.rows = int(document["rows"])
        for item in document["columns"]:
            summary.columns[item["name"]] = ColumnSummary.from_profile(item, options)
        return summary


def as_table(batch: Any) -> pa.Table:
    """A pyarrow Table of a Table, RecordBatch or pandas DataFrame (index left out)."""
    if isinstance(batch, pa.Table):
        return batch
    if isinstance(batch, pa.RecordBatch):
        return pa.Table.from_batches([batch])
    import pandas as pd

    if isinstance(batch, pd.DataFrame):
        try:
            return pa.Table.from_pandas(batch, preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise InvalidInput(
                f"the frame has a column Arrow cannot hold: {exc}", field="batch"
            ) from None
    raise InvalidInput(
        "expected a pyarrow Table or RecordBatch or a pandas DataFrame, "
        f"got {type(batch).__name__}",
        field="batch",
    )
