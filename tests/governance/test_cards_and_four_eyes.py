"""Four-eyes approvals and model cards, over HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import LiveServer
from tests.fixtures.lifecycle import ingest_breast_cancer, lightgbm_spec

from shipyard.client import Client, HttpTransport
from shipyard.errors import AccessDenied, NotFound

REVIEWER = {
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["registry:UpdateApproval", "registry:Get*", "registry:ListEvaluations"],
            "Resource": "*",
        }
    ]
}


@pytest.fixture
def sdk(api_server: LiveServer, admin_key: str) -> Iterator[Client]:
    client = Client(transport=HttpTransport(api_server.url, admin_key))
    yield client
    client.close()


def test_four_eyes_and_the_model_card(
    sdk: Client, api_server: LiveServer, admin_key: str, tmp_path: Path
) -> None:
    dataset = ingest_breast_cancer(sdk, tmp_path)
    contract = sdk.contracts.suggest(dataset, name="bc-contract").contract
    sdk.contracts.apply(contract)
    report = sdk.contracts.validate(dataset, "bc-contract")
    job = sdk.training.train(lightgbm_spec(dataset), timeout=120)
    assert job.run_id is not None
    version = sdk.models.register("bc", job.run_id)
    evaluation = sdk.evaluations.evaluate("bc@1", dataset, resamples=20)

    # the rule is off by default: the author may approve their own version
    assert sdk.models.get("bc").four_eyes is False
    assert sdk.models.update("bc", four_eyes=True).four_eyes is True
    with pytest.raises(AccessDenied) as refused:
        sdk.models.set_approval("bc", 1, "Approved", reason="looks good to me")
    assert refused.value.field == "principal"
    assert "four eyes" in refused.value.message and "registered bc@1" in refused.value.message
    assert sdk.models.version("bc@1").approval == "PendingManualApproval"
    assert sdk.models.approval_history("bc", 1) == []
    # rejecting one's own version needs no second person
    sdk.models.set_approval("bc", 1, "Rejected", reason="wrong features")
    sdk.models.set_approval("bc", 1, "PendingManualApproval")

    sdk.iam.create_principal("reviewer")
    sdk.iam.put_policy("review", REVIEWER)
    sdk.iam.attach_policy("reviewer", "review")
    token = sdk.iam.create_api_key("reviewer").token
    assert token is not None
    with Client(transport=HttpTransport(api_server.url, token)) as reviewer:
        approved = reviewer.models.set_approval("bc", 1, "Approved", reason="holdout AUC ok")
        assert (approved.approval, approved.approval_by) == ("Approved", "reviewer")
        with pytest.raises(AccessDenied):  # may not read the run: no card
            reviewer.models.card("bc", 1)

    card = sdk.models.card("bc", 1)
    assert (card.model, card.version, card.four_eyes) == ("bc", 1, True)
    assert card.summary.digest == version.digest
    assert [(a.status, a.principal) for a in card.approvals] == [
        ("Rejected", "admin"),
        ("PendingManualApproval", "admin"),
        ("Approved", "reviewer"),
    ]
    assert card.training is not None and card.training.run_id == job.run_id
    assert card.training.params["n_estimators"] == "20"
    assert 0.85 < card.training.metrics["accuracy"] <= 1.0
    assert not any(k.startswith("system/") for k in card.training.metrics)
    (data,) = card.data
    assert (data.ref, data.rows, data.contract) == (dataset, 569, report.contract)
    assert (data.validation, data.validation_id) == (report.status, report.id)
    assert data.columns["diagnosis"]
    assert [e.id for e in card.evaluations] == [evaluation.id]
    assert (f"dataset:{dataset}", f"run:{job.run_id}") in card.lineage.edges

    markdown = card.to_markdown()
    assert markdown.startswith("# Model card: bc@1\n")
    assert "| Approved | reviewer |" in markdown and "holdout AUC ok" in markdown
    assert f"| {dataset} | 569 |" in markdown
    page = card.to_html()
    assert "<h2>Training data</h2>" in page and "holdout AUC ok" in page

    # bad input changes nothing
    with pytest.raises(NotFound) as missing:
        sdk.models.update("nope", four_eyes=False)
    assert missing.value.field == "name"
    answer = httpx.patch(
        f"{api_server.url}/api/v1/models/bc",
        json={"four_eyes": "maybe"},
        headers={"Authorization": f"Bearer {admin_key}"},
    )
    assert answer.status_code == 400 and "four_eyes" in answer.text
    assert sdk.models.get("bc").four_eyes is True
    with pytest.raises(NotFound):
        sdk.models.card("bc", 7)
    bad = httpx.get(
        f"{api_server.url}/api/v1/models/bc/versions/one/card",
        headers={"Authorization": f"Bearer {admin_key}"},
    )
    assert bad.status_code == 400 and "version" in bad.text
