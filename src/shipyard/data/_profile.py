"""Statistics profile of a whole table: the table's summary (shipyard.statistics) in one go."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pyarrow as pa

# Submodules, not the package: shipyard.statistics itself imports shipyard.data's schema.
from shipyard.statistics._options import PROFILE
from shipyard.statistics._profile import (
    QUANTILES,
    TOP_VALUES,
    ColumnProfile,
    DatasetProfile,
    Quantiles,
    ValueCount,
)

__all__ = [
    "QUANTILES",
    "TOP_VALUES",
    "ColumnProfile",
    "DatasetProfile",
    "Quantiles",
    "ValueCount",
    "profile_document",
    "profile_table",
]


def profile_document(table: pa.Table) -> dict[str, Any]:
    """The stored profile of a normalised table, with its ``method`` (which are estimates).

    The table is in memory already, so quantiles are exact at any size; distinct counts
    and top values are exact up to the profile sketch sizes (``shipyard.statistics.PROFILE``).
    """
    from shipyard.statistics._table import TableSummary

    options = replace(PROFILE, exact_values=max(PROFILE.exact_values, table.num_rows))
    summary = TableSummary.for_schema(table.schema, options).update(table)
    return summary.profile(method="table")


def profile_table(table: pa.Table) -> DatasetProfile:
    """Profile every column of a normalised table."""
    return DatasetProfile.model_validate(profile_document(table))
