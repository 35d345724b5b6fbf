"""Splits follow the rows' content, not their stored order: shuffled data trains identically."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from shipyard.errors import InvalidInput
from shipyard.training import fit, parse_spec
from shipyard.training._split import content_order


def _shuffled(table: pa.Table, seed: int) -> pa.Table:
    order = np.random.default_rng(seed).permutation(table.num_rows)
    return table.take(pa.array(order))


def _respelled(table: pa.Table) -> pa.Table:
    """The same values stored differently: strings dictionary-encoded, in several chunks."""
    columns = {}
    for name in table.column_names:
        column = table.column(name).combine_chunks()
        if pa.types.is_large_string(column.type) or pa.types.is_string(column.type):
            column = column.dictionary_encode()
        columns[name] = pa.chunked_array([column.slice(0, 100), column.slice(100)])
    return pa.table(columns)


@pytest.mark.parametrize(
    "fields",
    [
        {
            "estimator": "sklearn.ensemble.RandomForestClassifier",
            "params": {"n_estimators": 15},
            "split": {"seed": 3},
        },
        {
            "estimator": "lightgbm.LGBMClassifier",
            "params": {"n_estimators": 20, "subsample": 0.7, "subsample_freq": 1},
            "split": {"kind": "kfold", "folds": 3, "seed": 4},
        },
        {
            "estimator": "sklearn.linear_model.LogisticRegression",
            "split": {"kind": "kfold", "folds": 4, "id_column": "spend"},
        },
    ],
)
def test_shuffled_and_respelled_rows_give_the_same_metrics_and_model(
    fields: dict[str, Any], messy_table: pa.Table
) -> None:
    spec = parse_spec({"dataset": "d", "target": "churned", "task": "classification", **fields})

    whole = fit(spec, messy_table)
    shuffled = fit(spec, _shuffled(messy_table, 1))
    respelled = fit(spec, _respelled(_shuffled(messy_table, 2)))

    assert whole.metrics == shuffled.metrics == respelled.metrics
    assert whole.digest == shuffled.digest == respelled.digest


def test_the_seed_still_chooses_the_split(messy_table: pa.Table) -> None:
    base = {"dataset": "d", "target": "churned", "task": "classification"}
    fields = {"estimator": "sklearn.linear_model.LogisticRegression"}

    one = fit(parse_spec({**base, **fields, "split": {"seed": 1}}), messy_table)
    two = fit(parse_spec({**base, **fields, "split": {"seed": 2}}), messy_table)

    assert one.metrics != two.metrics


def test_an_id_column_orders_rows_by_id_alone() -> None:
    table = pa.table({"id": ["c", "a", "b"], "x": [1.0, 2.0, 3.0]})
    changed = pa.table({"id": ["a", "b", "c"], "x": [9.0, 8.0, 7.0]})

    by_id = table.take(content_order(table, ["id", "x"], "id")).column("id")
    again = changed.take(content_order(changed, ["id", "x"], "id")).column("id")

    assert by_id.to_pylist() == again.to_pylist()
    with pytest.raises(InvalidInput) as caught:
        content_order(table, ["x"], "nope")
    assert caught.value.field == "split.id_column"
