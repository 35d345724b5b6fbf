"""A dataset with an id and a region column, and a LightGBM model fitted on it."""

from __future__ import annotations

import lightgbm
import numpy as np
import pandas as pd
import pytest
from batchkit import FEATURES, ROWS
from tests.edge.edgekit import numeric_frame


@pytest.fixture(scope="session")
def rows() -> pd.DataFrame:
    frame = numeric_frame(ROWS, 5, seed=3)
    frame.insert(0, "id", np.arange(ROWS, dtype=np.int64) * 7)
    frame["region"] = np.where(frame["f4"] > 0, "north", "south")
    return frame


@pytest.fixture(scope="session")
def booster(rows: pd.DataFrame) -> lightgbm.LGBMClassifier:
    model = lightgbm.LGBMClassifier(n_estimators=20, num_leaves=7, verbose=-1)
    return model.fit(rows[FEATURES].to_numpy(), rows["y"])
