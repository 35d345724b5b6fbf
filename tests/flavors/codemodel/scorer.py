"""A code model fixture: a linear score from registered .npy weights and a JSON bias."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import helpers


class LinearScore:
    def load(self, artifacts: Any) -> None:
        self.weights = artifacts.array("weights.npy")
        self.bias = float(artifacts.json("config.json")["bias"])

    def predict(self, table: Any) -> np.ndarray:
        return helpers.score(table.to_numpy(dtype=np.float64), self.weights, self.bias)
