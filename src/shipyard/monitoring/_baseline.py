"""A variant's baseline: the dataset version (given, or the served version's training data
from lineage), its column references, and the model's predictions on a sample of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.datasets import find_version, load_version_table
from shipyard.errors import InvalidInput
from shipyard.flavors import CODE_FLAVORS, ModelSignature, Predictor
from shipyard.monitoring._features import Feature
from shipyard.monitoring._summary import Reference, numeric_values, summarize
from shipyard.names import parse_reference
from shipyard.platform import Platform
from shipyard.store.metadata import tables as t

PREDICTION_ROWS = 20_000
SAMPLE_ROWS = 1_000
TREE_FLAVORS = frozenset({"lightgbm", "xgboost"})


def training_data(session: Session, version: t.ModelVersion) -> t.DatasetVersion | None:
    """The dataset version the version's run trained on (its first recorded input)."""
    version_id = session.scalar(
        sa.select(t.RunInput.dataset_version_id)
        .where(t.RunInput.run_id == version.run_id)
        .order_by(t.RunInput.dataset_version_id)
        .limit(1)
    )
    return None if version_id is None else session.get(t.DatasetVersion, version_id)


def dataset_ref(session: Session, row: t.DatasetVersion) -> str:
    name = session.scalar(sa.select(t.Dataset.name).where(t.Dataset.id == row.dataset_id))
    return f"{name}@{row.version}"


def baseline_version(
    session: Session, baseline: str | None, version: t.ModelVersion
) -> t.DatasetVersion:
    """The explicit ``dataset@version``, else the version's training data; InvalidInput
    naming ``baseline`` when lineage records none."""
    if baseline is not None:
        ref = parse_reference(baseline, field="baseline")
        if ref.alias is not None or ref.version is None:
            raise InvalidInput("name a dataset version, e.g. churn@3", field="baseline")
        return find_version(session, ref.name, ref.version)
    found = training_data(session, version)
    if found is None:
        raise InvalidInput(
            "the served model version records no training dataset; give --baseline DATASET@VERSION",
            field="baseline",
        )
    return found


def features_of(signature: ModelSignature) -> list[Feature]:
    return [Feature(c.name, c.type) for c in signature.inputs]


def reference_of(feature: Feature, column: pa.ChunkedArray) -> Reference:
    """The column's bins, from its summary (``shipyard.statistics.ColumnSummary``)."""
    return Reference.of_summary(summarize("numeric" if feature.numeric else "categorical", column))


def label_text(value: Any) -> str:
    """A prediction as the capture's JSON text of it (strings bare)."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def model_input(predictor: Predictor, table: pa.Table) -> np.ndarray | pd.DataFrame:
    names = predictor.signature.input_names
    if predictor.accepts_ndarray:
        return np.column_stack([numeric_values(table.column(n)) for n in names])
    return table.select(names).to_pandas()


@dataclass
class Baseline:
    ref: str
    rows: int
    references: dict[str, Reference]
    sample: pa.Table
    """Up to SAMPLE_ROWS rows of the model's inputs, for attributions."""
    prediction: Reference | None
    missing: list[str]


def load_baseline(
    platform: Platform,
    ref: str,
    row: t.DatasetVersion,
    signature: ModelSignature,
    predictor: Predictor | None,
) -> Baseline:
    """Column references of every model input the baseline holds, and the prediction's."""
    table = load_version_table(platform, row)
    features = [f for f in features_of(signature) if f.name in table.column_names]
    missing = [f.name for f in features_of(signature) if f.name not in table.column_names]
    references = {f.name: reference_of(f, table.column(f.name)) for f in features}
    rng = np.random.default_rng(0)
    take = np.sort(rng.permutation(table.num_rows)[:PREDICTION_ROWS])
    scored = table.take(pa.array(take))
    prediction = None
    if predictor is not None and not missing:
        outputs = predictor.predict(model_input(predictor, scored)).predictions
        prediction = _prediction_reference(signature, np.asarray(outputs))
    elif signature.target in table.column_names:
        prediction = _prediction_reference(signature, scored.column(signature.target).to_numpy())
    sample = scored.slice(0, SAMPLE_ROWS).select([f.name for f in features])
    return Baseline(ref, table.num_rows, references, sample, prediction, missing)


def _prediction_reference(signature: ModelSignature, values: np.ndarray) -> Reference:
    if signature.task == "regression":
        return Reference.numeric(np.asarray(values, dtype=np.float64))
    return Reference.categorical(pa.array([label_text(v) for v in values.tolist()], pa.string()))


def loadable(flavor: str) -> bool:
    """Whether the control plane loads this flavor (never a code bundle's code)."""
    return flavor not in CODE_FLAVORS
