"""Structural checks on LightGBM model text before LightGBM's C++ parser sees it.

LightGBM follows child and feature indices from the text without bounds
checks, and trusts the ``tree_sizes`` header to slice the text. These checks
refuse out-of-range indices, and the header is dropped so trees are read in order.
"""

from __future__ import annotations

import numpy as np

from shipyard.errors import UnsafeArtifact

CLASSIFICATION_OBJECTIVES = frozenset({"binary", "multiclass", "multiclassova"})
REGRESSION_OBJECTIVES = frozenset(
    {
        "regression",
        "regression_l1",
        "huber",
        "fair",
        "poisson",
        "quantile",
        "mape",
        "gamma",
        "tweedie",
    }
)


def audit_model_text(text: str) -> tuple[str, str]:
    """Check ``text`` and return ``(text without tree_sizes, objective name)``."""
    header, _, rest = text.partition("\nTree=")
    fields = _fields(header)
    objective = fields.get("objective", "").split(" ")[0]
    if objective not in CLASSIFICATION_OBJECTIVES | REGRESSION_OBJECTIVES:
        raise UnsafeArtifact(f"LightGBM objective {objective!r} is not supported")
    try:
        n_features = int(fields["max_feature_idx"]) + 1
        n_class = int(fields["num_class"])
        per_iteration = int(fields["num_tree_per_iteration"])
    except (KeyError, ValueError) as exc:
        raise UnsafeArtifact(f"LightGBM model header is malformed: {exc}") from exc
    if n_features < 1 or per_iteration not in (1, n_class):
        raise UnsafeArtifact("LightGBM model header is inconsistent")
    trees = rest.split("\nend of trees")[0].split("\nTree=") if rest else []
    if not trees or len(trees) % per_iteration:
        raise UnsafeArtifact("LightGBM model has no trees or a partial iteration")
    for block in trees:
        _check_tree(_fields(block), n_features)
    kept = "\n".join(line for line in header.split("\n") if not line.startswith("tree_sizes="))
    return kept + "\nTree=" + rest, objective


def _fields(block: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in block.split("\n") if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def _ints(fields: dict[str, str], key: str, length: int) -> np.ndarray:
    try:
        values = np.array(fields[key].split(), dtype=np.int64) if length else np.empty(0, np.int64)
    except (KeyError, ValueError) as exc:
        raise UnsafeArtifact(f"LightGBM tree field {key!r} is malformed") from exc
    if len(values) != length:
        raise UnsafeArtifact(f"LightGBM tree field {key!r} has {len(values)} values, not {length}")
    return values


def _check_tree(fields: dict[str, str], n_features: int) -> None:
    try:
        n_leaves = int(fields["num_leaves"])
        n_cat = int(fields.get("num_cat", "0"))
    except (KeyError, ValueError) as exc:
        raise UnsafeArtifact("LightGBM tree header is malformed") from exc
    if fields.get("is_linear", "0") != "0":
        raise UnsafeArtifact("LightGBM linear trees are not supported")
    if n_leaves < 1 or len(fields.get("leaf_value", "").split()) != n_leaves:
        raise UnsafeArtifact("LightGBM tree leaf count does not match its leaf values")
    inner = n_leaves - 1
    index = np.arange(inner)
    for key in ("left_child", "right_child"):
        child = _ints(fields, key, inner)
        to_node, to_leaf = child >= 0, child < 0
        if np.any(child[to_node] <= index[to_node]) or np.any(child[to_node] >= inner):
            raise UnsafeArtifact(f"LightGBM tree {key} points outside the tree")
        if np.any(~child[to_leaf] >= n_leaves):
            raise UnsafeArtifact(f"LightGBM tree {key} names a leaf that does not exist")
    feature = _ints(fields, "split_feature", inner)
    if np.any(feature < 0) or np.any(feature >= n_features):
        raise UnsafeArtifact(f"LightGBM tree splits on a feature outside 0..{n_features - 1}")
    decision = _ints(fields, "decision_type", inner)
    categorical = (decision & 1) == 1
    if not np.any(categorical):
        return
    try:
        slots = np.array(fields["threshold"].split(), dtype=np.float64)[categorical]
    except (KeyError, ValueError, IndexError) as exc:
        raise UnsafeArtifact("LightGBM tree thresholds are malformed") from exc
    bounds = _ints(fields, "cat_boundaries", n_cat + 1)
    words = len(fields.get("cat_threshold", "").split())
    if np.any(slots < 0) or np.any(slots >= n_cat) or np.any(np.diff(bounds) < 0):
        raise UnsafeArtifact("LightGBM categorical split points outside its category table")
    if bounds[0] != 0 or bounds[-1] != words:
        raise UnsafeArtifact("LightGBM category table boundaries do not match its size")
