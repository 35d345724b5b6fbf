"""A dataset profile built batch by batch in bounded memory: a table summary, updated.

See ``shipyard.statistics`` for what is exact and what is estimated past which size.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from shipyard.statistics import PROFILE, TableSummary


class BatchProfiler:
    """Accumulates the profile of a table that arrives in record batches of one schema."""

    def __init__(self, schema: pa.Schema) -> None:
        self.summary = TableSummary.for_schema(schema, PROFILE)

    @property
    def rows(self) -> int:
        return self.summary.rows

    def update(self, table: pa.Table) -> None:
        self.summary.update(table)

    def result(self) -> dict[str, Any]:
        """The profile as stored with a version, with a note of which statistics are estimates."""
        return self.summary.profile(method="streaming")
