"""A platform with the breast-cancer data as a CSV to send with pipelines, and its contract."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from shipyard import contracts, datasets, pipelines
from shipyard.cli._quickstart import write_breast_cancer_csv
from shipyard.platform import Platform
from shipyard.security import ADMIN, RequestContext, context_for

FEATURES = ["mean_radius", "mean_texture", "mean_perimeter", "mean_area", "diagnosis"]

PIPELINE = """
name: retrain
parameters:
  n_estimators: 10
  min_gain: 0.001
steps:
  - name: ingest
    kind: ingest
    with: {dataset: bc, file: bc.csv}
  - name: validate
    kind: validate
    with: {dataset: "${steps.ingest.dataset}", contract: bc}
  - name: train
    kind: train
    with:
      dataset: "${steps.validate.dataset}"
      target: diagnosis
      task: classification
      estimator: lightgbm.LGBMClassifier
      params: {n_estimators: "${params.n_estimators}", num_leaves: 7}
      split: {kind: holdout, test_size: 0.25, seed: 7}
      experiment: pipelines
  - name: evaluate
    kind: evaluate
    with:
      candidate: "${steps.train.run}"
      data: "${steps.ingest.dataset}"
      champion: bc-model@champion
      thresholds:
        accuracy:
          threshold: 0.5
          min_absolute_change: "${params.min_gain}"
          greater_is_better: true
  - name: gate
    kind: condition
    with: {if: "${steps.evaluate.passed}", then: [register]}
  - name: register
    kind: register
    with: {model: bc-model, run: "${steps.train.run}", alias: champion}
"""


def bc_csv(tmp_path: Path, rows: int | None = None) -> str:
    frame_path = write_breast_cancer_csv(tmp_path / "full.csv")
    import pandas as pd

    frame = pd.read_csv(frame_path)[FEATURES]
    if rows is not None:
        frame = frame.iloc[:rows]
    return str(frame.to_csv(index=False))


@pytest.fixture
def admin(platform: Platform) -> RequestContext:
    return context_for(platform, ADMIN)


@pytest.fixture
def bc(admin: RequestContext, tmp_path: Path) -> str:
    """The CSV text, ingested once as ``bc`` with a contract ``bc`` suggested from it."""
    text = bc_csv(tmp_path)
    datasets.ingest(admin, "bc", text.encode(), "bc.csv")
    contracts.apply(admin, contracts.suggest(admin, "bc").contract.model_dump(mode="json"))
    return text


def spec(text: str = PIPELINE, **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(text)
    document.update(changes)
    return document


def wait_run(ctx: RequestContext, run_id: str, timeout: float = 180) -> pipelines.PipelineRunInfo:
    deadline = time.monotonic() + timeout
    while True:
        info = pipelines.get_pipeline_run(ctx, run_id)
        if info.done:
            return info
        assert time.monotonic() < deadline, f"run did not end: {info}"
        time.sleep(0.1)
