"""Dividing rows for evaluation: a seeded holdout split or seeded k folds."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from shipyard.errors import InvalidInput
from shipyard.training._spec import SplitSpec


def holdout_split(
    y: np.ndarray, split: SplitSpec, classes: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(train, test)`` of one seeded split, stratified for classification."""
    index = np.arange(len(y))
    stratify = y if classes is not None and split.stratify else None
    try:
        train, test = train_test_split(
            index, test_size=split.test_size, random_state=split.seed, stratify=stratify
        )
    except ValueError as exc:
        field = "split.stratify" if stratify is not None else "split.test_size"
        raise InvalidInput(f"cannot split {len(y)} rows: {exc}", field=field) from exc
    _require_all_classes(y[train], classes)
    return np.sort(train), np.sort(test)


def kfold_splits(
    y: np.ndarray, split: SplitSpec, classes: np.ndarray | None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Seeded shuffled folds ``(train, test)``, stratified for classification."""
    if split.folds > len(y):
        raise InvalidInput(
            f"{split.folds} folds need at least as many rows; there are {len(y)}",
            field="split.folds",
        )
    stratified = classes is not None and split.stratify
    splitter = (StratifiedKFold if stratified else KFold)(
        n_splits=split.folds, shuffle=True, random_state=split.seed
    )
    try:
        folds = list(splitter.split(np.zeros(len(y)), y))
    except ValueError as exc:
        raise InvalidInput(f"cannot make {split.folds} folds: {exc}", field="split.folds") from exc
    for train, test in folds:
        _require_all_classes(y[train], classes)
        yield train, test


def _require_all_classes(y_train: np.ndarray, classes: np.ndarray | None) -> None:
    if classes is None:
        return
    absent = np.setdiff1d(classes, np.unique(y_train))
    if len(absent):
        raise InvalidInput(
            f"a training split has no rows of class {absent.tolist()!r}; "
            "use split.stratify: true or add rows of that class",
            field="split",
        )
