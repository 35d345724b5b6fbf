"""Nulls and unseen categories are counted per column as request batches are checked."""

from __future__ import annotations

import numpy as np

from shipyard.flavors import ColumnSpec, ModelSignature
from shipyard.serving import FeatureBuilder
from shipyard.serving._input_stats import InputTally

SIGNATURE = ModelSignature(
    inputs=[
        ColumnSpec(name="colour", type="string"),
        ColumnSpec(name="size", type="float"),
        ColumnSpec(name="ripe", type="boolean"),
        ColumnSpec(name="picked", type="timestamp"),
    ],
    task="regression",
    target="y",
)


def test_each_batch_adds_its_nulls_and_unseen_values_per_column() -> None:
    tally = InputTally(SIGNATURE, {"colour": ["red", "green"]})
    builder = FeatureBuilder(SIGNATURE, ndarray=False, tally=tally)

    builder.from_rows(
        [
            ["red", None, True, "2024-01-02T03:04:05Z"],
            ["violet", 1.5, None, None],
            [None, None, False, 1704164645],
        ],
        where="rows",
    )
    builder.from_text_columns(
        {"colour": ["blue"], "size": [""], "ripe": ["true"], "picked": [""]}, where="body"
    )

    assert tally.nulls.tolist() == [1, 3, 1, 2]
    assert tally.unseen.tolist() == [2, 0, 0, 0]


def test_plain_number_batches_take_the_fast_path_uncounted_unless_a_column_has_categories() -> None:
    numbers = ModelSignature(
        inputs=[ColumnSpec(name="a", type="float"), ColumnSpec(name="code", type="integer")],
        task="regression",
        target="y",
    )
    plain = InputTally(numbers, {})
    coded = InputTally(numbers, {"code": [1, 2, 3]})

    fast = FeatureBuilder(numbers, ndarray=True, tally=plain).from_rows([[0.5, 1]], where="rows")
    checked = FeatureBuilder(numbers, ndarray=True, tally=coded).from_rows(
        [[0.5, 7], [None, 2]], where="rows"
    )

    assert isinstance(fast, np.ndarray) and plain.nulls.tolist() == [0, 0]
    assert np.isnan(checked[1, 0])
    assert coded.nulls.tolist() == [1, 0] and coded.unseen.tolist() == [0, 1]
