"""Registering the batch tests' model: dataset ``numbers@1`` and ``m@1`` (alias champion)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from tests.edge.edgekit import ingest_frame, register_fitted, signature_of

from shipyard.platform import Platform
from shipyard.registry import set_alias
from shipyard.security import context_for

FEATURES = [f"f{i}" for i in range(5)]
ROWS = 3000


def register_model(platform: Platform, rows: pd.DataFrame, booster: Any) -> None:
    """Dataset ``numbers@1`` and model ``m@1`` (alias champion) trained on its features."""
    dataset = ingest_frame(platform, "numbers", rows)
    signature = signature_of(rows[[*FEATURES, "y"]], "y", [0, 1])
    register_fitted(platform, "m", booster, signature, dataset)
    set_alias(context_for(platform, "admin"), "m", "champion", 1)
