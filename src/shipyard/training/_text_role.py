"""When ``preprocessing: auto`` treats a string column as free text rather than categories.

A string column is text when, over its non-null values (the first ``SAMPLE_ROWS`` in
content order), at least half are distinct, at least half contain whitespace, and
the mean length is at least 30 characters: sentences, not codes, names or labels.
Everything else stays categorical; ``preprocessing.roles`` overrides either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SAMPLE_ROWS = 10_000
MIN_MEAN_LENGTH = 30.0
MIN_DISTINCT_SHARE = 0.5
MIN_SPACED_SHARE = 0.5


def looks_like_free_text(values: Sequence[Any]) -> bool:
    """Whether a string column's values read as free text (see the module docstring)."""
    texts = [v for v in values[:SAMPLE_ROWS] if isinstance(v, str)]
    if len(texts) < 2:
        return False
    count = len(texts)
    mean_length = sum(len(t) for t in texts) / count
    distinct = len(set(texts)) / count
    spaced = sum(1 for t in texts if len(t.split(maxsplit=1)) > 1) / count
    return (
        mean_length >= MIN_MEAN_LENGTH
        and distinct >= MIN_DISTINCT_SHARE
        and spaced >= MIN_SPACED_SHARE
    )
