"""One platform (SQLite) with a small breast-cancer dataset for the tuning tests that need
no second database or transport, and the specs they tune."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sklearn.datasets import load_breast_cancer

from shipyard.client import Client
from shipyard.config import Settings


@pytest.fixture(scope="session")
def cancer_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame = load_breast_cancer(as_frame=True).frame.sample(300, random_state=0)
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    path = tmp_path_factory.mktemp("data") / "cancer.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def tuner(tmp_path_factory: pytest.TempPathFactory, cancer_csv: Path) -> Iterator[Client]:
    """An embedded SDK on a fresh SQLite home with the dataset ``cancer`` ingested."""
    home = tmp_path_factory.mktemp("home")
    client = Client(settings=Settings(home=home))
    client.datasets.ingest(cancer_csv, "cancer")
    yield client
    client.close()


def lgbm_spec(**overrides: Any) -> dict[str, Any]:
    """A LightGBM tuning spec on ``cancer@1`` (few rounds: fast trials)."""
    spec: dict[str, Any] = {
        "training": {
            "dataset": "cancer@1",
            "target": "target",
            "task": "classification",
            "estimator": "lightgbm.LGBMClassifier",
            "params": {"min_child_samples": 5},
        },
        "objective": {"metric": "roc_auc", "direction": "maximize"},
        "max_trials": 4,
        "seed": 0,
        "search_space": {
            "n_estimators": {"type": "int", "low": 10, "high": 40},
            "learning_rate": {"type": "float", "low": 0.01, "high": 0.3, "log": True},
        },
    }
    spec.update(overrides)
    return spec
