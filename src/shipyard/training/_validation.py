"""The rows a model was evaluated on, kept beside it so converted models can be checked on them.

Edge export compares an ONNX conversion with the original on these rows: data the
model was scored on, in the table's own columns and types, rather than a sample of
what it was trained on. The table is bounded (``VALIDATION_ROWS``) by a seeded
sample, and encoded as canonical Parquet so the same spec, seed and data give the
same bytes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from shipyard.data import normalize_table, write_parquet_bytes
from shipyard.flavors import ModelSignature

VALIDATION_ROWS = 10_000


def validation_rows(rows: np.ndarray, seed: int, limit: int = VALIDATION_ROWS) -> np.ndarray:
    """``rows`` in ascending order, or a sorted sample of ``limit`` of them drawn with ``seed``.

    A seeded sample rather than the first ``limit`` rows, so a table sorted by time or
    class is still represented as a whole.
    """
    ordered = np.sort(np.asarray(rows, dtype=np.int64))
    if len(ordered) <= limit:
        return ordered
    picked = np.random.default_rng(seed).choice(len(ordered), size=limit, replace=False)
    return ordered[np.sort(picked)]


def validation_table(
    table: pa.Table, signature: ModelSignature, target: str, rows: np.ndarray
) -> pa.Table:
    """The model's input columns and the target at ``rows``, as the dataset stores them."""
    columns = [*signature.input_names]
    if target not in columns:
        columns.append(target)
    return table.select(columns).take(pa.array(rows, type=pa.int64()))


def validation_parquet(validation: pa.Table) -> bytes:
    """Canonical Parquet bytes of a validation table (dictionaries decoded, no metadata)."""
    return write_parquet_bytes(normalize_table(validation))
