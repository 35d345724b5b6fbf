"""Free-text columns: TF-IDF from role ``text``, chosen by ``auto`` or by override."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import skops.io
from sklearn.feature_extraction.text import TfidfVectorizer

from shipyard.errors import InvalidInput
from shipyard.flavors import TRUSTED_TYPES, load_predictor
from shipyard.training import FitResult, check_columns, fit, parse_spec
from shipyard.training._text_role import looks_like_free_text


def _spec(**fields: Any) -> Any:
    base = {
        "dataset": "d",
        "target": "liked",
        "task": "classification",
        "estimator": "sklearn.linear_model.LogisticRegression",
        "metrics": ["accuracy"],
    }
    return parse_spec({**base, **fields})


def _reloaded(result: FitResult) -> Any:
    return load_predictor(
        result.flavor, result.model_bytes, result.signature, expected_digest=result.digest
    )


def _vectorizer(result: FitResult) -> TfidfVectorizer:
    prepare = result.estimator.steps[0][1]
    branches = {name: (step, columns) for name, step, columns in prepare.transformers_}
    step, columns = branches["text_0"]
    assert columns == [0]
    vectorizer = step.named_steps["tfidf"]
    assert isinstance(vectorizer, TfidfVectorizer)
    return vectorizer


@pytest.mark.parametrize("preprocessing", ["auto", {"roles": {"review": "text"}}])
def test_free_text_trains_with_tfidf_and_carries_the_signal(
    preprocessing: Any, review_table: pa.Table
) -> None:
    lines: list[str] = []
    result = fit(_spec(preprocessing=preprocessing), review_table, log=lines.append)
    without = fit(_spec(features=["price", "channel"]), review_table)

    assert [c.type for c in result.signature.inputs] == ["string", "float", "string"]
    vocabulary = _vectorizer(result).vocabulary_
    assert "wonderful" in vocabulary and "terrible" in vocabulary
    assert result.metrics["accuracy"] > without.metrics["accuracy"] + 0.15
    assert result.metrics["accuracy"] > 0.75
    assert any("'review' reads as free text" in line for line in lines) == (preprocessing == "auto")
    assert set(skops.io.get_untrusted_types(data=result.model_bytes)) <= set(TRUSTED_TYPES)

    predictor = _reloaded(result)
    assert "review" not in predictor.known_categories
    requests = pd.DataFrame(
        {
            "review": np.array(
                [
                    "overall the zorblax was WONDERFUL and really superb, a quixotic joy",
                    "frankly the gizmo was dreadful and really useless, never again",
                    None,
                ],
                dtype=object,
            ),
            "price": [40.0, 40.0, np.nan],
            "channel": np.array(["phone", "phone", "fax"], dtype=object),
        }
    )
    prediction = predictor.predict(requests)
    assert prediction.probabilities is not None
    assert np.isfinite(prediction.probabilities).all()
    assert prediction.predictions.tolist()[:2] == ["yes", "no"]


def test_text_options_bound_the_vocabulary(review_table: pa.Table) -> None:
    spec = _spec(preprocessing={"text": {"max_features": 12, "ngram_max": 2}})

    vectorizer = _vectorizer(fit(spec, review_table))

    assert vectorizer.ngram_range == (1, 2) and vectorizer.lowercase
    assert len(vectorizer.vocabulary_) == 12
    assert any(" " in term for term in vectorizer.vocabulary_)


def test_short_codes_and_names_stay_categorical(messy_table: pa.Table) -> None:
    result = fit(_spec(target="churned"), messy_table)

    branches = {name for name, _, _ in result.estimator.steps[0][1].transformers}
    assert "categorical_text" in branches and not any(b.startswith("text_") for b in branches)


@pytest.mark.parametrize(
    ("values", "text"),
    [
        (["a long sentence about the weather that goes on and on"] * 10, False),  # repeated
        (["kitchen-appliance-premium-bundle-edition-" + str(i) for i in range(10)], False),
        (["paris", "lyon", None, "nice"], False),
        ([f"review {i}: the lamp arrived late and the shade was bent" for i in range(10)], True),
    ],
)
def test_the_auto_rule_wants_long_distinct_sentences(values: list[Any], text: bool) -> None:
    assert looks_like_free_text(values) == text


@pytest.mark.parametrize(
    ("preprocessing", "field"),
    [
        ({"text": {"max_features": 0}}, "preprocessing.text.max_features"),
        ({"text": {"ngram_max": 3}}, "preprocessing.text.ngram_max"),
        ({"text": {"lowercase": False}}, "preprocessing.text.lowercase"),
    ],
)
def test_bad_text_options_name_the_field(preprocessing: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        _spec(preprocessing=preprocessing)

    assert caught.value.field == field


def test_text_on_a_numeric_column_names_the_role(review_table: pa.Table) -> None:
    spec = _spec(preprocessing={"roles": {"price": "text"}})

    with pytest.raises(InvalidInput) as at_fit:
        fit(spec, review_table)
    with pytest.raises(InvalidInput) as at_submit:
        check_columns(spec, {"review": "string", "price": "float", "liked": "string"})

    for problem in (at_fit.value, at_submit.value):
        assert problem.field == "preprocessing.roles.price"
        assert "float column cannot have role 'text'" in problem.message


def test_boosting_libraries_refuse_the_text_role() -> None:
    with pytest.raises(InvalidInput) as caught:
        fit(
            _spec(estimator="lightgbm.LGBMClassifier", preprocessing={"roles": {"review": "text"}}),
            pa.table({"review": ["x"], "liked": ["yes"]}),
        )

    assert caught.value.field == "preprocessing"
    assert "role text" in caught.value.message
