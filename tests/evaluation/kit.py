"""Labelled datasets from scikit-learn's bundled data, and fitted models logged and registered
through the SDK (either transport), for the evaluation and gate tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, Ridge

from shipyard.client import Client
from shipyard.flavors import ColumnSpec, ModelSignature, artifact_digest, save_model
from shipyard.registry import MODEL_ARTIFACT, MODEL_META


def cancer_frame() -> pd.DataFrame:
    """Breast cancer with columns f0..f29 and string labels in ``label``."""
    bunch = load_breast_cancer()
    frame = pd.DataFrame(bunch.data, columns=[f"f{i}" for i in range(bunch.data.shape[1])])
    frame["label"] = bunch.target_names[bunch.target]
    return frame


def iris_frame() -> pd.DataFrame:
    bunch = load_iris()
    frame = pd.DataFrame(bunch.data, columns=[f"f{i}" for i in range(4)])
    frame["species"] = bunch.target_names[bunch.target]
    return frame


def diabetes_frame() -> pd.DataFrame:
    bunch = load_diabetes()
    frame = pd.DataFrame(bunch.data, columns=[f"f{i}" for i in range(10)])
    frame["progression"] = bunch.target
    return frame


def ingest(client: Client, tmp_path: Path, frame: pd.DataFrame, name: str) -> str:
    path = tmp_path / f"{name}.parquet"
    frame.to_parquet(path, index=False)
    return client.datasets.ingest(path, name).ref


def fit_classifier(frame: pd.DataFrame, target: str, features: int) -> tuple[Any, list[str]]:
    columns = [c for c in frame.columns if c != target][:features]
    model = LogisticRegression(max_iter=5000).fit(frame[columns].to_numpy(), frame[target])
    return model, columns


def fit_regressor(frame: pd.DataFrame, target: str, features: int) -> tuple[Any, list[str]]:
    columns = [c for c in frame.columns if c != target][:features]
    return Ridge(alpha=0.1).fit(frame[columns].to_numpy(), frame[target].to_numpy()), columns


def signature_of(model: Any, columns: list[str], target: str) -> ModelSignature:
    classes = getattr(model, "classes_", None)
    return ModelSignature(
        inputs=[ColumnSpec(name=c, type="float") for c in columns],
        task="classification" if classes is not None else "regression",
        target=target,
        classes=[c.item() if isinstance(c, np.generic) else c for c in classes]
        if classes is not None
        else None,
    )


def log_model(client: Client, tmp_path: Path, model: Any, signature: ModelSignature) -> str:
    """A finished run holding the model in its safe format: its id."""
    flavor, data = save_model(model)
    meta = {
        "flavor": flavor,
        "digest": artifact_digest(data),
        "signature": signature.model_dump(mode="json"),
    }
    with client.start_run(experiment="evaluation") as run:
        for path, content in ((MODEL_ARTIFACT, data), (MODEL_META, orjson.dumps(meta))):
            local = tmp_path / f"{run.id}-{path.replace('/', '-')}"
            local.write_bytes(content)
            run.log_artifact(local, name=path)
    return run.id


def register(
    client: Client, tmp_path: Path, name: str, model: Any, columns: list[str], target: str
) -> int:
    run_id = log_model(client, tmp_path, model, signature_of(model, columns, target))
    return client.models.register(name, run_id).version
