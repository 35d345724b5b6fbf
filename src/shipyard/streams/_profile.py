"""A dataset version's profile after a commit: the previous summary merged with the new rows'.

Profiling the whole dataset at every commit would cost more with every commit; instead the
version's profile carries its compact table summary (``summary``), the new partition's
summary is merged into it, and the profile is derived from the merge. Counts, nulls, min,
max, lengths, mean and standard deviation stay exact; quantiles, distinct counts and top
values are exact while small and close estimates past the compact sketch sizes, and the
profile says which. A profile stored before summaries were kept is converted on read (its
quantiles, distinct count and top values then count as estimates).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from shipyard.errors import InvalidInput
from shipyard.statistics import COMPACT, TableSummary

SUMMARY = "summary"


def merge_profiles(previous: dict[str, Any] | None, added: pa.Table) -> dict[str, Any]:
    """The stored profile of ``previous``'s rows followed by the rows of ``added``."""
    summary = TableSummary.for_schema(added.schema, COMPACT)
    if previous is not None:
        summary = _previous_summary(previous).merge(summary)
    summary.update(added)
    document = summary.profile(method="stream")
    if previous is not None and "warnings" in previous:
        document["warnings"] = previous["warnings"]
    document[SUMMARY] = summary.to_dict()
    return document


def _previous_summary(previous: dict[str, Any]) -> TableSummary:
    stored = previous.get(SUMMARY)
    if stored is not None:
        try:
            return TableSummary.from_dict(stored)
        except InvalidInput:
            pass  # unreadable: fall back to the profile itself
    return TableSummary.from_profile(previous, COMPACT)
