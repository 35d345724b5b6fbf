"""What a skops artifact may contain, and structural checks on what it loaded.

skops trusts scikit-learn estimator classes and plain numpy/builtin types by
itself. ``TRUSTED_TYPES`` lists the few extra types that Shipyard's
allowlisted estimators need (found with ``skops.io.get_untrusted_types`` on
every allowlisted estimator, fitted, on the preprocessing pipelines training
builds, whose timestamp and text steps are Shipyard's own ``TimestampParts`` and
``TextDocuments``, and on AutoML's soft-voting ensembles, whose
``named_estimators_`` is a ``Bunch``: a dict with attribute access and no code of
its own; ``tests/flavors`` re-checks it). Tree
nodes and SVM supports hold raw indices that compiled code follows without
bounds checks, so ``audit_structures`` verifies them before any predict.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import skops.io
from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
from sklearn.svm._base import BaseLibSVM
from sklearn.tree._tree import Tree

from shipyard.errors import IntegrityError, UnsafeArtifact

TRUSTED_TYPES: tuple[str, ...] = (
    "numpy.dtype",
    "shipyard.flavors._text_documents.TextDocuments",
    "shipyard.flavors._timestamp_parts.TimestampParts",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
    "sklearn.utils._bunch.Bunch",
)

_SVM_KERNELS = frozenset({"linear", "poly", "rbf", "sigmoid"})


def check_types(data: bytes) -> None:
    """Raise UnsafeArtifact naming every type in the archive outside ``TRUSTED_TYPES``."""
    try:
        untrusted = skops.io.get_untrusted_types(data=data)
    except Exception as exc:  # a damaged archive can fail anywhere inside skops
        raise IntegrityError(
            f"the sklearn artifact is not a readable skops archive: {exc}"
        ) from exc
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise UnsafeArtifact(
            f"the sklearn artifact references types outside Shipyard's trusted list: {refused}"
        )


def audit_structures(model: Any) -> None:
    """Raise UnsafeArtifact if any tree or SVM inside ``model`` has out-of-range indices."""
    _walk(model, None, {})


def _walk(obj: Any, width: int | None, seen: dict[int, float]) -> None:
    key, bound = id(obj), math.inf if width is None else width
    previous = seen.get(key)
    if previous is not None and previous <= bound:
        return
    seen[key] = bound
    if isinstance(obj, Tree):
        _check_tree(obj, width)
    elif isinstance(obj, TreePredictor):
        _check_hist_predictor(obj, width)
    elif isinstance(obj, list | tuple):
        for item in obj:
            _walk(item, width, seen)
    elif isinstance(obj, dict):
        for item in obj.values():
            _walk(item, width, seen)
    elif isinstance(obj, np.ndarray):
        if obj.dtype == object:
            for item in obj.flat:
                _walk(item, width, seen)
    elif hasattr(obj, "__dict__"):
        attrs = vars(obj)
        n_features = attrs.get("n_features_in_")
        if isinstance(n_features, int | np.integer):
            width = int(n_features) if width is None else min(width, int(n_features))
        if isinstance(obj, BaseLibSVM):
            _check_svm(obj)
        if hasattr(obj, "estimators_") and hasattr(obj, "n_trees_per_iteration_"):
            _check_boosting_stages(obj)
        for item in attrs.values():
            _walk(item, width, seen)


def _check_children(left: np.ndarray, right: np.ndarray, leaf: np.ndarray, what: str) -> None:
    index = np.arange(len(left))
    inner = ~leaf
    if np.any(left[inner] <= index[inner]) or np.any(right[inner] <= index[inner]):
        raise UnsafeArtifact(f"{what} has a child index that does not point forward")
    if np.any(left[inner] >= len(left)) or np.any(right[inner] >= len(left)):
        raise UnsafeArtifact(f"{what} has a child index past its last node")


def _require_width(width: int | None, what: str) -> int:
    if width is None:
        raise UnsafeArtifact(f"{what} is not owned by a fitted estimator with n_features_in_")
    return width


def _check_tree(tree: Tree, width: int | None) -> None:
    limit = _require_width(width, "a decision tree")
    left = np.asarray(tree.children_left)
    right = np.asarray(tree.children_right)
    feature = np.asarray(tree.feature)
    if not len(left) == len(right) == len(feature) == tree.node_count:
        raise UnsafeArtifact("a decision tree's node arrays disagree in length")
    leaf = left == -1
    if np.any(right[leaf] != -1):
        raise UnsafeArtifact("a decision tree has a node with only one child")
    _check_children(left, right, leaf, "a decision tree")
    if np.any(feature[~leaf] < 0) or np.any(feature[~leaf] >= limit):
        raise UnsafeArtifact(f"a decision tree splits on a feature outside 0..{limit - 1}")


def _check_hist_predictor(predictor: TreePredictor, width: int | None) -> None:
    limit = _require_width(width, "a histogram-boosting tree")
    nodes = predictor.nodes
    if (
        not isinstance(nodes, np.ndarray)
        or nodes.dtype != PREDICTOR_RECORD_DTYPE
        or nodes.ndim != 1
    ):
        raise UnsafeArtifact("a histogram-boosting tree has a malformed node array")
    leaf = nodes["is_leaf"] != 0
    if len(nodes) == 0 or np.any(nodes["is_categorical"][~leaf] != 0):
        raise UnsafeArtifact("histogram-boosting trees with categorical splits are not supported")
    left = nodes["left"].astype(np.int64)
    right = nodes["right"].astype(np.int64)
    _check_children(left, right, leaf, "a histogram-boosting tree")
    feature = nodes["feature_idx"][~leaf]
    if np.any(feature < 0) or np.any(feature >= limit):
        raise UnsafeArtifact(
            f"a histogram-boosting tree splits on a feature outside 0..{limit - 1}"
        )


def _check_svm(svm: BaseLibSVM) -> None:
    if "support_vectors_" not in vars(svm):
        return
    try:
        n_support = np.asarray(svm._n_support, dtype=np.int64)
        vectors = np.asarray(svm.support_vectors_)
        dual = np.asarray(svm._dual_coef_)
        n_class = len(n_support)
        pairs = max(n_class * (n_class - 1) // 2, 1)
        consistent = (
            svm.kernel in _SVM_KERNELS
            and not svm._sparse
            and vectors.ndim == 2
            and vectors.shape[1] == svm.n_features_in_ == svm.shape_fit_[1]
            and np.all(n_support >= 0)
            and int(n_support.sum()) == vectors.shape[0] == len(svm.support_) == dual.shape[1]
            and dual.shape[0] == max(n_class - 1, 1)
            and len(svm._intercept_) == pairs
            and len(svm._probA) in (0, pairs)
            and len(svm._probB) in (0, pairs)
        )
    except (AttributeError, TypeError, ValueError, IndexError) as exc:
        raise UnsafeArtifact(f"a support vector machine is malformed: {exc}") from exc
    if not consistent:
        raise UnsafeArtifact("a support vector machine's arrays disagree in shape")


def _check_boosting_stages(model: Any) -> None:
    stages = model.estimators_
    if not isinstance(stages, np.ndarray):
        return
    if stages.ndim != 2 or stages.shape[1] != model.n_trees_per_iteration_:
        raise UnsafeArtifact("a gradient-boosting model's stage matrix has the wrong shape")
    probe = np.zeros((1, model.n_features_in_), dtype=np.float32)
    try:
        start = model._raw_predict_init(probe)
    except (AttributeError, TypeError, ValueError, IndexError) as exc:
        raise UnsafeArtifact(f"a gradient-boosting model is malformed: {exc}") from exc
    if np.shape(start) != (1, stages.shape[1]):
        raise UnsafeArtifact("a gradient-boosting model's initial scores do not match its stages")
