"""Datasets the AutoML tests search: sklearn's breast cancer (classification) and diabetes
(regression) tables, ingested as CSV files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sklearn.datasets import load_diabetes

from shipyard.cli._quickstart import write_breast_cancer_csv
from shipyard.client import Client
from shipyard.jobs._host import wait_until_warm
from shipyard.platform import Platform

BUDGET_SECONDS = 10.0


def ingest_breast_cancer(client: Client, tmp_path: Path) -> str:
    """Breast cancer with its target ``diagnosis`` as labels (malignant, benign)."""
    path = write_breast_cancer_csv(tmp_path / "cancer.csv")
    return client.datasets.ingest(path, "cancer").ref


def ingest_diabetes(client: Client, tmp_path: Path) -> str:
    load_diabetes(as_frame=True).frame.to_csv(tmp_path / "diabetes.csv", index=False)
    return client.datasets.ingest(tmp_path / "diabetes.csv", "diabetes").ref


@pytest.fixture
def sdk(platform: Platform) -> Iterator[Client]:
    client = Client(settings=platform.settings)
    yield client
    client.close()


@pytest.fixture(scope="session")
def warm_job_host(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Start the job host as ``shipyard server`` does when it starts: a budget runs from
    submission, so the first job must not wait for the host's imports."""
    wait_until_warm(tmp_path_factory.mktemp("host") / "warm-up.log")
