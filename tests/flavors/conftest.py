"""Fitted models and signatures shared by the flavor tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from shipyard.flavors import ColumnSpec, ModelSignature


def _numeric_signature(width: int, classes: list[Any] | None) -> ModelSignature:
    return ModelSignature(
        inputs=[ColumnSpec(name=f"f{i}", type="float") for i in range(width)],
        task="regression" if classes is None else "classification",
        target="y",
        classes=classes,
    )


@pytest.fixture(scope="session")
def numeric_signature() -> Any:
    """``numeric_signature(width, classes)``: inputs f0..fN; regression when classes is None."""
    return _numeric_signature


@pytest.fixture(scope="session")
def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    x, y = load_breast_cancer(return_X_y=True)
    return np.ascontiguousarray(x), y


@pytest.fixture(scope="session")
def iris() -> tuple[np.ndarray, np.ndarray]:
    x, y = load_iris(return_X_y=True)
    return np.ascontiguousarray(x), np.array(["setosa", "versicolor", "virginica"])[y]


@pytest.fixture(scope="session")
def diabetes() -> tuple[np.ndarray, np.ndarray]:
    x, y = load_diabetes(return_X_y=True)
    return np.ascontiguousarray(x), y
