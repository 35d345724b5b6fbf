"""Parity of a converted model with the original, on the model's validation rows.

The rows are, in order of preference: a dataset version the caller names, the
run's stored validation table (``model/validation.parquet``), or a fixed
sample of the dataset version the model was trained on (its lineage).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from shipyard.datasets import find_version, scratch_directory, version_files
from shipyard.errors import InvalidInput
from shipyard.flavors import ModelSignature, Predictor
from shipyard.names import parse_reference
from shipyard.platform import Platform
from shipyard.store.metadata import tables as t

VALIDATION_ARTIFACT = "model/validation.parquet"
PARITY_ROWS = 1000


class ParityCheck(BaseModel):
    """How closely a converted model reproduces the original on ``rows`` validation rows."""

    rows: int
    source: str
    max_abs_diff: float
    tolerance: float
    labels_agree: float | None = None
    compared: str


def validation_frame(
    platform: Platform,
    session: Session,
    version: t.ModelVersion,
    signature: ModelSignature,
    dataset: str | None,
) -> tuple[pd.DataFrame, str]:
    """Up to PARITY_ROWS rows of the signature's columns, and where they came from."""
    if dataset is not None:
        ref = parse_reference(dataset, field="validation")
        if ref.alias is not None:
            raise InvalidInput("datasets are named by version (name@3)", field="validation")
        row = find_version(session, ref.name, ref.version)
        digest = version_files(session, row)[0].digest
        return _sample(platform, digest, signature), f"dataset {ref.name}@{row.version}"
    artifact = session.get(t.RunArtifact, (version.run_id, VALIDATION_ARTIFACT))
    if artifact is not None:
        return _sample(platform, artifact.digest, signature), "the run's validation table"
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
            "the model version has no validation data (its run stored none and read no "
            "dataset); name a dataset version to check parity on",
            field="validation",
        )
    name, row = trained_on
    rows = _sample(platform, version_files(session, row)[0].digest, signature)
    return rows, f"a sample of training dataset {name}@{row.version}"


def _sample(platform: Platform, digest: str, signature: ModelSignature) -> pd.DataFrame:
    with tempfile.TemporaryDirectory(dir=scratch_directory(platform)) as scratch:
        path = platform.blobs.download(digest, Path(scratch) / "rows.parquet")
        try:
            parquet = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise InvalidInput(
                f"validation data is not Parquet: {exc}", field="validation"
            ) from None
        present = set(parquet.schema_arrow.names)
        missing = [name for name in signature.input_names if name not in present]
        if missing:
            raise InvalidInput(
                f"validation data lacks the model's input columns {missing}", field="validation"
            )
        table = parquet.read_row_group(0, columns=signature.input_names)
    if table.num_rows > PARITY_ROWS:
        rng = np.random.default_rng(0)
        picked = np.sort(rng.choice(table.num_rows, size=PARITY_ROWS, replace=False))
        table = table.take(pa.array(picked))
    if table.num_rows == 0:
        raise InvalidInput("validation data has no rows", field="validation")
    frame: pd.DataFrame = table.to_pandas()
    return frame


def compare(
    native: Predictor,
    converted: Predictor,
    rows: pd.DataFrame,
    source: str,
    tolerance: float,
) -> ParityCheck:
    """Largest absolute difference of probabilities (or values), and label agreement."""
    expected = native.predict(rows)
    actual = converted.predict(rows)
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
        rows=len(rows),
        source=source,
        max_abs_diff=difference,
        tolerance=tolerance,
        labels_agree=agree,
        compared=compared,
    )
