"""The search's pieces without a job: budgets, and an ensemble stored and loaded as served."""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa
import pytest
from sklearn.datasets import load_wine

from shipyard.automl import parse_budget
from shipyard.automl._candidates import families
from shipyard.automl._data import prepare
from shipyard.automl._ensemble import Selection
from shipyard.automl._evaluate import Evaluator, fit_model, model_output
from shipyard.automl._run import _composite
from shipyard.errors import InvalidInput
from shipyard.flavors import artifact_digest, load_predictor, save_model


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90.0), ("10m", 600.0), ("1h", 3600.0), ("45", 45.0)]
)
def test_budgets_read_as_seconds(text: str, seconds: float) -> None:
    assert parse_budget(text) == seconds


@pytest.mark.parametrize("text", ["5s", "ten minutes", "10d", "-3m", ""])
def test_a_malformed_or_too_small_budget_names_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_budget(text)
    assert raised.value.field == "budget"


def test_a_soft_voting_ensemble_is_stored_with_skops_and_serves_its_outputs() -> None:
    x, y = load_wine(return_X_y=True)
    columns = {f"f{i}": x[:, i] for i in range(x.shape[1])} | {"y": np.array(["a", "b", "c"])[y]}
    data = prepare(pa.table(columns), "y", "classification")
    by_name = {f.name: f for f in families("classification", data.rows)}
    evaluator = Evaluator(data, "log_loss", 3, 0, 1)
    later = time.monotonic() + 60
    linear = evaluator.evaluate(by_name["linear"], {"C": 1.0, "max_iter": 1000}, data.rows, later)
    trees = evaluator.evaluate(
        by_name["extra_trees"],
        {"n_estimators": 8, "max_leaf_nodes": 16, "max_features": 0.5},
        data.rows,
        later,
    )
    assert linear is not None and trees is not None
    model = _composite(Selection([(linear, 2), (trees, 1)], 0.0), by_name, data, 1)
    fit_model(model, None, data, np.arange(data.rows))

    flavor, stored = save_model(model)
    predictor = load_predictor(
        flavor, stored, data.signature, expected_digest=artifact_digest(stored)
    )
    rows = np.arange(20)
    served = predictor.predict(data.features(False).rows(rows)).probabilities
    assert flavor == "sklearn" and served is not None
    np.testing.assert_allclose(served, model_output(model, False, data, rows), rtol=1e-6)
