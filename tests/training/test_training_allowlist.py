"""Every allowlisted estimator trains, stores and loads; TRUSTED_TYPES is exactly what they need."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
import skops.io
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import VotingClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier

from shipyard.flavors import TRUSTED_TYPES, load_predictor
from shipyard.training import ESTIMATORS, FitResult, fit, parse_spec

SMALL = {
    "n_estimators": 5,
    "max_iter": 5,
}
SKLEARN = sorted(name for name, entry in ESTIMATORS.items() if entry.flavor == "sklearn")
FAST = {
    "LogisticRegression",
    "LinearRegression",
    "Ridge",
    "ElasticNet",
    "RandomForestClassifier",
    "RandomForestRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
    "HistGradientBoostingClassifier",
    "HistGradientBoostingRegressor",
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
}


def _small_params(name: str) -> dict[str, Any]:
    entry = ESTIMATORS[name]
    if entry.role == "transformer":
        return {}
    cls = __import__(entry.module, fromlist=[entry.class_name]).__dict__[entry.class_name]
    known = cls().get_params()
    return {k: v for k, v in SMALL.items() if k in known}


def _train(name: str, breast: pa.Table, diabetes: pa.Table) -> FitResult:
    entry = ESTIMATORS[name]
    if entry.role == "transformer":
        params = {"n_components": 3} if entry.class_name == "PCA" else {}
        fields: dict[str, Any] = {
            "estimator": "sklearn.pipeline",
            "params": {
                "steps": [
                    {"estimator": name, "params": params},
                    {"estimator": "sklearn.linear_model.LogisticRegression"},
                ]
            },
        }
    else:
        fields = {"estimator": name, "params": _small_params(name)}
    regression = entry.role == "regressor"
    spec = parse_spec(
        {
            "dataset": "d",
            "target": "target",
            "task": "regression" if regression else "classification",
            "features": None if regression else breast.column_names[:8],
            **fields,
        }
    )
    return fit(spec, diabetes if regression else breast)


def _preprocessed(table: pa.Table, encode: str) -> FitResult:
    """A mixed table through every preprocessing branch (timestamps included)."""
    spec = parse_spec(
        {
            "dataset": "d",
            "target": "churned",
            "task": "classification",
            "estimator": "sklearn.ensemble.RandomForestClassifier",
            "params": {"n_estimators": 5},
            "preprocessing": {"categorical": {"encode": encode, "max_categories": 3}},
        }
    )
    return fit(spec, table)


def _with_text(table: pa.Table) -> FitResult:
    """A free-text column through the TF-IDF branch (words and word pairs)."""
    spec = parse_spec(
        {
            "dataset": "d",
            "target": "liked",
            "task": "classification",
            "estimator": "sklearn.linear_model.LogisticRegression",
            "preprocessing": {"roles": {"review": "text"}, "text": {"ngram_max": 2}},
        }
    )
    return fit(spec, table)


@pytest.fixture(scope="module")
def results(
    breast_cancer_table: pa.Table,
    diabetes_table: pa.Table,
    messy_table: pa.Table,
    review_table: pa.Table,
) -> dict[str, FitResult]:
    breast = breast_cancer_table.slice(0, 300)
    found = {name: _train(name, breast, diabetes_table) for name in SKLEARN}
    for encode in ("onehot", "ordinal"):
        found[f"preprocessing:{encode}"] = _preprocessed(messy_table, encode)
    found["preprocessing:text"] = _with_text(review_table)
    return found


@pytest.mark.parametrize("name", SKLEARN)
def test_allowlisted_estimator_round_trips(name: str, results: dict[str, FitResult]) -> None:
    result = results[name]

    predictor = load_predictor(
        result.flavor, result.model_bytes, result.signature, expected_digest=result.digest
    )

    assert result.flavor == "sklearn"
    assert result.metrics
    transformer = ESTIMATORS[name].role == "transformer"
    expect_fast = name.rsplit(".", 1)[1] in FAST or (
        transformer
        and name.rsplit(".", 1)[1]
        in {"StandardScaler", "MinMaxScaler", "RobustScaler", "SimpleImputer"}
    )
    assert predictor.fast_path == expect_fast


def test_trusted_types_are_exactly_what_the_allowlist_needs(results: dict[str, FitResult]) -> None:
    needed = set()
    for result in results.values():
        needed |= set(skops.io.get_untrusted_types(data=result.model_bytes))
    # AutoML's ensembles: a soft-voting composite of allowlisted estimators
    features, labels = load_breast_cancer(return_X_y=True)
    members = [("a", GaussianNB()), ("b", DecisionTreeClassifier(max_depth=3))]
    ensemble = VotingClassifier(members, voting="soft").fit(features[:200], labels[:200])
    needed |= set(skops.io.get_untrusted_types(data=skops.io.dumps(ensemble)))

    assert needed == set(TRUSTED_TYPES)
