"""An embedded platform on SQLite and a small numeric dataset for the edge export tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from edgekit import ingest_frame, numeric_frame

from shipyard.config import Settings
from shipyard.datasets import DatasetVersionInfo
from shipyard.platform import Platform
from shipyard.security import bootstrap


@pytest.fixture
def sqlite_platform(tmp_path: Path) -> Iterator[Platform]:
    opened = Platform.open(Settings(home=tmp_path / "home"))
    bootstrap(opened)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def frame() -> pd.DataFrame:
    return numeric_frame(1500, 5)


@pytest.fixture
def dataset(sqlite_platform: Platform, frame: pd.DataFrame) -> DatasetVersionInfo:
    return ingest_frame(sqlite_platform, "numbers", frame)
