"""A training job whose roles do not fit the dataset is refused at submission, naming the role."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.training.conftest import messy_frame

from shipyard.client import Client
from shipyard.errors import InvalidInput


@pytest.mark.parametrize(
    ("roles", "field", "words"),
    [
        ({"nowhere": "numeric"}, "preprocessing.roles.nowhere", "not a feature"),
        ({"signup": "categorical"}, "preprocessing.roles.signup", "timestamp column cannot"),
        ({"spend": "boolean"}, "preprocessing.roles.spend", "float column cannot"),
    ],
)
def test_roles_that_do_not_fit_the_dataset_are_a_4xx_naming_the_role(
    client: Client, tmp_path: Path, roles: dict[str, Any], field: str, words: str
) -> None:
    messy_frame(n=60).to_csv(tmp_path / "churn.csv", index=False)
    dataset = client.datasets.ingest(tmp_path / "churn.csv", "churn").ref
    spec = {
        "dataset": dataset,
        "target": "churned",
        "task": "classification",
        "estimator": "sklearn.linear_model.LogisticRegression",
        "preprocessing": {"roles": roles},
    }

    with pytest.raises(InvalidInput) as caught:
        client.training.submit(spec)

    assert caught.value.field == field and words in caught.value.message
    assert client.training.list() == []
