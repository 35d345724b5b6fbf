"""Parity of a converted model with the original, on the rows the model was validated on.

The rows are, in order of preference:

- ``dataset``: a dataset version the caller names (``parity_data``);
- ``validation``: the run's stored validation table (``model/validation.parquet``,
  written by the training worker: the held-out rows the model was scored on);
- ``training-sample``: a fixed sample of the dataset version the run read, for
  model versions registered without a validation table (older versions, models
  users trained and registered from their own runs).

At most ``PARITY_ROWS`` rows are compared, a seeded sample beyond that, read
batch by batch so a large dataset is never loaded whole.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from shipyard.data import normalize_table
from shipyard.datasets import iter_version_batches, scratch_directory
from shipyard.errors import InvalidInput
from shipyard.flavors import (
    MODEL_META,
    VALIDATION_ARTIFACT,
    ModelSignature,
    Predictor,
    check_conforms,
    schema_kinds,
)
from shipyard.platform import Platform
from shipyard.store.metadata import tables as t

PARITY_ROWS = 10_000
FIELD = "parity_data"

ParityData = Literal["validation", "training-sample", "dataset"]


class ParityCheck(BaseModel):
    """How closely a converted model reproduces the original on ``rows`` rows of ``data``."""

    data: ParityData
    rows: int
    source: str
    max_abs_diff: float
    tolerance: float
    labels_agree: float | None = None
    compared: str


@dataclass(frozen=True)
class ParityRows:
    """The rows to compare on, which kind of data they are, and where exactly they came from."""

    frame: pd.DataFrame
    data: ParityData
    source: str
    digest: str

    def report(self) -> dict[str, object]:
        """What the export's parity record says about its data."""
        return {
            "data": self.data,
            "source": self.source,
            "data_digest": self.digest,
            "rows": len(self.frame),
        }


def parity_rows(
    platform: Platform,
    session: Session,
    version: t.ModelVersion,
    signature: ModelSignature,
    dataset: tuple[str, t.DatasetVersion] | None,
) -> ParityRows:
    """The rows to check parity on: ``dataset`` if given, else the run's validation table,
    else a sample of the dataset the run trained on; InvalidInput when there are none."""
    if dataset is not None:
        name, row = dataset
        frame = _dataset_sample(platform, row, signature, f"dataset {name}@{row.version}")
        return ParityRows(frame, "dataset", f"dataset {name}@{row.version}", row.digest)
    artifact = session.get(t.RunArtifact, (version.run_id, VALIDATION_ARTIFACT))
    if artifact is not None:
        split = _split_of(platform, session, version.run_id)
        what = f"the {split + ' ' if split else ''}validation rows of run {version.run_id}"
        frame = _artifact_sample(platform, artifact.digest, signature, what)
        return ParityRows(frame, "validation", what, artifact.digest)
    trained_on = session.execute(
        sa.select(t.Dataset.name, t.DatasetVersion)
        .join(t.DatasetVersion, t.DatasetVersion.dataset_id == t.Dataset.id)
        .join(t.RunInput, t.RunInput.dataset_version_id == t.DatasetVersion.id)
        .where(t.RunInput.run_id == version.run_id)
        .order_by(t.DatasetVersion.id)
        .limit(1)
    ).first()
    if trained_on is None:
        raise InvalidInput(
            f"the model version has no validation data: its run stored no {VALIDATION_ARTIFACT} "
            "and read no dataset; name a dataset version to check parity on (--parity-data)",
            field=FIELD,
        )
    name, row = trained_on
    what = f"a sample of training dataset {name}@{row.version}"
    return ParityRows(
        _dataset_sample(platform, row, signature, what), "training-sample", what, row.digest
    )


def _split_of(platform: Platform, session: Session, run_id: str) -> str | None:
    """How a training job chose its validation rows ("holdout", "kfold"), if its meta says."""
    meta = session.get(t.RunArtifact, (run_id, MODEL_META))
    if meta is None:
        return None
    try:
        validation = orjson.loads(platform.blobs.get_bytes(meta.digest)).get("validation")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    split = validation.get("split") if isinstance(validation, dict) else None
    return split if split in ("holdout", "kfold") else None


def _dataset_sample(
    platform: Platform, row: t.DatasetVersion, signature: ModelSignature, what: str
) -> pd.DataFrame:
    _check_columns({c["name"]: c["type"] for c in row.schema}, signature, what)
    batches = iter_version_batches(platform, row, signature.input_names)
    return _sample(batches, row.rows, what)


def _artifact_sample(
    platform: Platform, digest: str, signature: ModelSignature, what: str
) -> pd.DataFrame:
    with tempfile.TemporaryDirectory(dir=scratch_directory(platform)) as scratch:
        path = platform.blobs.download(digest, Path(scratch) / "validation.parquet")
        try:
            with pq.ParquetFile(path) as parquet:
                kinds = schema_kinds(parquet.schema_arrow)
                _check_columns(kinds, signature, what)
                batches = parquet.iter_batches(columns=signature.input_names)
                return _sample(batches, parquet.metadata.num_rows, what)
        except (pa.ArrowException, OSError) as exc:
            raise InvalidInput(f"{what} are not readable Parquet: {exc}", field=FIELD) from None


def _check_columns(kinds: Mapping[str, str], signature: ModelSignature, what: str) -> None:
    """InvalidInput listing every input column ``what`` lacks or holds with another type."""
    check_conforms(signature, kinds, what=what, field=FIELD)


def _sample(batches: Iterable[pa.RecordBatch], total: int, what: str) -> pd.DataFrame:
    """Every row when there are at most PARITY_ROWS, else a fixed seeded sample, in order."""
    if total == 0:
        raise InvalidInput(f"{what} have no rows", field=FIELD)
    picked = None
    if total > PARITY_ROWS:
        rng = np.random.default_rng(0)
        picked = np.sort(rng.choice(total, size=PARITY_ROWS, replace=False))
    kept = list(_take(batches, picked))
    if not kept:
        raise InvalidInput(f"{what} have no rows", field=FIELD)
    frame: pd.DataFrame = normalize_table(pa.Table.from_batches(kept)).to_pandas()
    return frame


def _take(batches: Iterable[pa.RecordBatch], picked: np.ndarray | None) -> Iterator[pa.RecordBatch]:
    """The rows at ``picked`` (sorted positions over all batches), or all of them."""
    offset = 0
    for batch in batches:
        if picked is None:
            yield batch
        else:
            low, high = np.searchsorted(picked, [offset, offset + batch.num_rows])
            if high > low:
                yield batch.take(pa.array(picked[low:high] - offset))
        offset += batch.num_rows


def compare(
    native: Predictor,
    converted: Predictor,
    rows: ParityRows,
    tolerance: float,
) -> ParityCheck:
    """Largest absolute difference of probabilities (or values), and label agreement."""
    expected = native.predict(rows.frame)
    actual = converted.predict(rows.frame)
    if expected.probabilities is not None and actual.probabilities is not None:
        left, right, compared = expected.probabilities, actual.probabilities, "probabilities"
        agree: float | None = float(np.mean(expected.predictions == actual.predictions))
    else:
        left, right, compared = expected.predictions, actual.predictions, "predictions"
        agree = None
    left, right = np.asarray(left, dtype=np.float64), np.asarray(right, dtype=np.float64)
    if left.shape != right.shape:
        difference = float("inf")
    else:
        gaps = np.where(np.isnan(left) & np.isnan(right), 0.0, np.abs(left - right))
        gaps = np.where(np.isnan(gaps), np.inf, gaps)
        difference = float(gaps.max()) if gaps.size else 0.0
    return ParityCheck(
        data=rows.data,
        rows=len(rows.frame),
        source=rows.source,
        max_abs_diff=difference,
        tolerance=tolerance,
        labels_agree=agree,
        compared=compared,
    )
