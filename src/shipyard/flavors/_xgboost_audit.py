"""Structural checks on XGBoost JSON models before XGBoost loads them.

XGBoost follows child, feature, class-group and category indices from the
model without bounds checks, so a crafted file could read or write outside
its buffers. These checks refuse any index outside its table.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from shipyard.errors import UnsafeArtifact

CLASSIFICATION_OBJECTIVES = frozenset({"binary:logistic", "multi:softprob"})
REGRESSION_OBJECTIVES = frozenset(
    {
        "reg:squarederror",
        "reg:squaredlogerror",
        "reg:pseudohubererror",
        "reg:absoluteerror",
        "reg:gamma",
        "reg:tweedie",
        "count:poisson",
    }
)
_MAX_CATEGORY = 1 << 20


def audit_model(model: dict[str, Any]) -> tuple[str, int, int]:
    """Check a parsed XGBoost JSON model; return ``(objective, num_feature, num_class)``."""
    try:
        return _audit(model)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise UnsafeArtifact(f"the XGBoost model is malformed: {exc!r}") from exc


def _audit(model: dict[str, Any]) -> tuple[str, int, int]:
    learner = model["learner"]
    objective = str(learner["objective"]["name"])
    if objective not in CLASSIFICATION_OBJECTIVES | REGRESSION_OBJECTIVES:
        raise UnsafeArtifact(f"XGBoost objective {objective!r} is not supported")
    param = learner["learner_model_param"]
    n_features, n_class = int(param["num_feature"]), int(param["num_class"])
    if n_features < 1 or n_class < 0 or int(param.get("num_target", "1")) != 1:
        raise UnsafeArtifact("XGBoost model parameters are inconsistent")
    booster = learner["gradient_booster"]
    if booster["name"] not in ("gbtree", "dart"):
        raise UnsafeArtifact(f"XGBoost booster {booster['name']!r} is not supported")
    forest = booster["model"] if booster["name"] == "gbtree" else booster["gbtree"]["model"]
    trees = forest["trees"]
    groups = np.asarray(forest["tree_info"], dtype=np.int64)
    if len(groups) != len(trees) or np.any(groups < 0) or np.any(groups >= max(n_class, 1)):
        raise UnsafeArtifact("XGBoost tree groups point outside the class range")
    _check_monotone(forest.get("iteration_indptr", [0, len(trees)]), len(trees), "iterations")
    if booster["name"] == "dart" and len(booster["weight_drop"]) != len(trees):
        raise UnsafeArtifact("XGBoost dart weights do not match the tree count")
    if "cats" in forest:
        _check_categories_table(forest["cats"], n_features)
    for tree in trees:
        _check_tree(tree, n_features)
    return objective, n_features, n_class


def _check_monotone(values: list[int], last: int, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.int64)
    if len(array) == 0 or array[0] != 0 or array[-1] != last or np.any(np.diff(array) < 0):
        raise UnsafeArtifact(f"XGBoost {what} offsets are inconsistent")
    return array


def _check_categories_table(cats: dict[str, Any], n_features: int) -> None:
    encodings = cats.get("enc", [])
    if encodings and len(encodings) != n_features:
        raise UnsafeArtifact("XGBoost category encodings do not match the feature count")
    for encoding in encodings:
        offsets = encoding.get("offsets", [])
        if offsets:
            _check_monotone(offsets, len(encoding.get("values", [])), "category text")
    segments = cats.get("feature_segments", [])
    if not segments:
        return
    order = np.asarray(cats.get("sorted_idx", []), dtype=np.int64)
    bounds = _check_monotone(segments, len(order), "category segments")
    if len(bounds) != n_features + 1:
        raise UnsafeArtifact("XGBoost category segments do not match the feature count")
    for start, end in itertools.pairwise(bounds):
        part = order[start:end]
        if np.any(part < 0) or np.any(part >= end - start):
            raise UnsafeArtifact("XGBoost category order points outside its segment")


def _check_tree(tree: dict[str, Any], n_features: int) -> None:
    n_nodes = int(tree["tree_param"]["num_nodes"])
    if int(tree["tree_param"].get("size_leaf_vector", "1")) > 1:
        raise UnsafeArtifact("XGBoost multi-output trees are not supported")
    arrays = {
        key: np.asarray(tree[key])
        for key in (
            "left_children",
            "right_children",
            "split_indices",
            "split_conditions",
            "default_left",
            "split_type",
            "base_weights",
            "parents",
        )
    }
    if n_nodes < 1 or any(a.shape != (n_nodes,) for a in arrays.values()):
        raise UnsafeArtifact("XGBoost tree arrays disagree in length")
    left = arrays["left_children"].astype(np.int64)
    right = arrays["right_children"].astype(np.int64)
    leaf = left == -1
    inner = np.flatnonzero(~leaf)
    if np.any(right[leaf] != -1):
        raise UnsafeArtifact("XGBoost tree has a node with only one child")
    for child in (left[inner], right[inner]):
        if np.any(child <= inner) or np.any(child >= n_nodes):
            raise UnsafeArtifact("XGBoost tree child index points outside the tree")
    feature = arrays["split_indices"].astype(np.int64)[inner]
    if np.any(feature < 0) or np.any(feature >= n_features):
        raise UnsafeArtifact(f"XGBoost tree splits on a feature outside 0..{n_features - 1}")
    _check_tree_categories(tree, arrays["split_type"].astype(np.int64), inner, n_nodes)


def _check_tree_categories(
    tree: dict[str, Any], split_type: np.ndarray, inner: np.ndarray, n_nodes: int
) -> None:
    nodes = np.asarray(tree.get("categories_nodes", []), dtype=np.int64)
    segments = np.asarray(tree.get("categories_segments", []), dtype=np.int64)
    sizes = np.asarray(tree.get("categories_sizes", []), dtype=np.int64)
    values = np.asarray(tree.get("categories", []), dtype=np.int64)
    if not len(nodes) == len(segments) == len(sizes):
        raise UnsafeArtifact("XGBoost tree category tables disagree in length")
    if np.any(nodes < 0) or np.any(nodes >= n_nodes):
        raise UnsafeArtifact("XGBoost tree category table names a node outside the tree")
    if np.any((split_type != 0) & (split_type != 1)):
        raise UnsafeArtifact("XGBoost tree has an unknown split type")
    categorical = inner[split_type[inner] == 1]
    if not np.isin(categorical, nodes).all():
        raise UnsafeArtifact("XGBoost categorical split has no category list")
    if np.any(segments < 0) or np.any(sizes < 0) or np.any(segments + sizes > len(values)):
        raise UnsafeArtifact("XGBoost tree category list points outside its table")
    if np.any(values < 0) or np.any(values >= _MAX_CATEGORY):
        raise UnsafeArtifact("XGBoost tree category code is out of range")
