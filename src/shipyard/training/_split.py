"""Dividing rows for evaluation: a seeded holdout split or seeded k folds, by content.

Rows are first put in an order fixed by their content (``content_order``), so the
same rows stored in any order or partitioning are split, and fitted, identically.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from shipyard.errors import InvalidInput
from shipyard.flavors._base import arrow_column_type
from shipyard.flavors._timestamps import arrow_epoch_seconds
from shipyard.training._spec import SplitSpec


def content_order(table: pa.Table, columns: Sequence[str], id_column: str | None) -> np.ndarray:
    """Row indices sorted by a stable hash of each row's values in ``columns``.

    With ``id_column`` rows are sorted by the hash of that column first (so a row's
    place follows its id), then by their values. Equal rows are interchangeable,
    so ties need no further order.
    """
    values = _row_hashes(table, columns)
    if id_column is None:
        return np.argsort(values, kind="stable")
    if id_column not in table.column_names:
        raise InvalidInput(f"column {id_column!r} is not in the dataset", field="split.id_column")
    return np.lexsort((values, _row_hashes(table, [id_column])))


def _row_hashes(table: pa.Table, columns: Sequence[str]) -> np.ndarray:
    """One uint64 per row from the values alone: numbers, booleans and times as float64
    (so integer widths, timestamp units and dictionary encoding do not matter), text as str."""
    frame: dict[str, object] = {}
    for i, name in enumerate(columns):
        column = table.column(name)
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            frame[str(i)] = column.cast(pa.string()).to_numpy(zero_copy_only=False)
        elif arrow_column_type(kind) is not None:
            frame[str(i)] = arrow_epoch_seconds(column)
        else:  # a type training refuses later, with a message naming the column
            frame[str(i)] = column.to_pandas().astype(str).to_numpy()
    hashes: np.ndarray = pd.util.hash_pandas_object(pd.DataFrame(frame), index=False).to_numpy()
    return hashes


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
