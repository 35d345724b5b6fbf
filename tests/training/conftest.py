"""Arrow tables the training tests fit on: sklearn's toy datasets and one with strings."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris


@pytest.fixture(scope="session")
def breast_cancer_table() -> pa.Table:
    return pa.Table.from_pandas(load_breast_cancer(as_frame=True).frame, preserve_index=False)


@pytest.fixture(scope="session")
def iris_table() -> pa.Table:
    data = load_iris(as_frame=True)
    frame = data.frame.assign(target=np.array(data.target_names)[data.target])
    return pa.Table.from_pandas(frame, preserve_index=False)


@pytest.fixture(scope="session")
def diabetes_table() -> pa.Table:
    return pa.Table.from_pandas(load_diabetes(as_frame=True).frame, preserve_index=False)


@pytest.fixture(scope="session")
def mixed_table() -> pa.Table:
    """Strings (dictionary-encoded, with nulls), floats, integers and booleans; a string target."""
    rng = np.random.default_rng(11)
    n = 500
    colour = rng.choice(["red", "green", "blue"], n).astype(object)
    colour[::29] = None
    size = rng.normal(size=n)
    label = np.where((colour == "red") | (size > 1.0), "yes", "no")
    return pa.table(
        {
            "colour": pa.array(list(colour), type=pa.string()).dictionary_encode(),
            "size": size,
            "count": rng.integers(0, 10, n),
            "flag": rng.random(n) > 0.5,
            "label": label,
        }
    )
