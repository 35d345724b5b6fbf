"""Many decision trees walked together, one numpy step per tree level.

Calling each tree separately costs a few microseconds of call overhead per
tree; walking all trees at once costs a few microseconds per level instead.
Missing values are not handled here (callers route non-finite rows elsewhere).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class StackedForest:
    """The nodes of many trees in flat arrays; leaves point to themselves."""

    def __init__(
        self,
        parts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
        depth: int,
        *,
        float32_inputs: bool,
    ) -> None:
        sizes = [len(left) for left, *_ in parts]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
        lefts, rights = [], []
        for (left, right, *_), offset in zip(parts, offsets, strict=True):
            index = np.arange(len(left), dtype=np.intp) + offset
            leaf = left < 0
            lefts.append(np.where(leaf, index, left + offset))
            rights.append(np.where(leaf, index, right + offset))
        self._left = np.concatenate(lefts)
        self._right = np.concatenate(rights)
        self._feature = np.concatenate([np.maximum(p[2], 0) for p in parts]).astype(np.intp)
        self._threshold = np.concatenate([p[3] for p in parts]).astype(np.float64)
        self._value = np.concatenate([p[4] for p in parts])
        self._roots = offsets
        self._depth = depth
        self._float32 = float32_inputs

    @classmethod
    def from_trees(cls, trees: Sequence[Any], n_values: int) -> StackedForest:
        """From ``sklearn.tree._tree.Tree`` objects; each node keeps its first ``n_values``."""
        parts = [
            (
                np.asarray(t.children_left, dtype=np.intp),
                np.asarray(t.children_right, dtype=np.intp),
                np.asarray(t.feature),
                np.asarray(t.threshold),
                np.asarray(t.value)[:, 0, :n_values],
            )
            for t in trees
        ]
        return cls(parts, max(int(t.max_depth) for t in trees), float32_inputs=True)

    @classmethod
    def from_hist_predictors(cls, predictors: Sequence[Any]) -> StackedForest:
        """From HistGradientBoosting ``TreePredictor`` objects (numeric splits only)."""
        parts = []
        for predictor in predictors:
            nodes = predictor.nodes
            leaf = nodes["is_leaf"] != 0
            parts.append(
                (
                    np.where(leaf, -1, nodes["left"].astype(np.intp)),
                    np.where(leaf, -1, nodes["right"].astype(np.intp)),
                    nodes["feature_idx"],
                    nodes["num_threshold"],
                    nodes["value"].reshape(-1, 1),
                )
            )
        depth = max(int(p.nodes["depth"].max()) for p in predictors)
        return cls(parts, depth, float32_inputs=False)

    def leaf_values(self, x: np.ndarray) -> np.ndarray:
        """Leaf values reached by each row in each tree: shape (rows, trees, values)."""
        if self._float32:
            x = x.astype(np.float32).astype(np.float64)
        rows = np.arange(len(x))[:, None]
        node = np.broadcast_to(self._roots, (len(x), len(self._roots)))
        for _ in range(self._depth):
            goes_left = x[rows, self._feature[node]] <= self._threshold[node]
            following = np.where(goes_left, self._left[node], self._right[node])
            if np.array_equal(following, node):
                break
            node = following
        values: np.ndarray = self._value[node]
        return values
