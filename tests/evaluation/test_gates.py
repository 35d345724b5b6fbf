"""Gates: a model's thresholds block registration, approval and deployment of versions that
miss them (409 naming the metric, its value, the baseline's and the rule), record why on
the version and in the audit, leave everything else as it was, and let passing versions by.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.evaluation import kit

from shipyard.client import Client
from shipyard.errors import Conflict, InvalidInput, NotFound

RULES = {"thresholds": ["auc>=0.9"], "min_absolute_change": {"auc": 0.005}}


def _gated_model(client: Client, tmp_path: Path) -> tuple[str, object]:
    """cancer@1 (two features, the champion), cancer@2 (one feature, worse), both registered
    before a gate on every stage: auc >= 0.9 and 0.005 better than the champion."""
    frame = kit.cancer_frame()
    data = kit.ingest(client, tmp_path, frame, "cancer-data")
    kit.register(client, tmp_path, "cancer", *kit.fit_classifier(frame, "label", 2), "label")
    kit.register(client, tmp_path, "cancer", *kit.fit_classifier(frame, "label", 1), "label")
    client.models.set_alias("cancer", "champion", 1)
    gate = client.evaluations.set_gate("cancer", "cancer-data", baseline="champion", **RULES)
    assert gate.stages == ["register", "approve", "deploy"] and gate.data == "cancer-data"
    assert client.evaluations.get_gate("cancer") == gate
    return data, frame


def _stored_files(home: Path) -> set[Path]:
    return {
        p
        for p in home.rglob("*")
        if p.is_file() and not p.name.startswith("shipyard.db") and "scratch" not in p.parts
    }


def _blocked(error: Conflict, stage: str) -> None:
    message = error.message
    assert error.field == "gate"
    assert f"gate blocks {stage} of" in message
    assert "auc = 0." in message and "(baseline 0." in message
    assert "min_absolute_change=0.005" in message and "cancer@champion = cancer@1" in message


def test_registration_is_blocked_and_nothing_is_stored(client: Client, tmp_path: Path) -> None:
    _, frame = _gated_model(client, tmp_path)
    model, columns = kit.fit_classifier(frame, "label", 2)  # the champion again: no better
    run_id = kit.log_model(client, tmp_path, model, kit.signature_of(model, columns, "label"))
    stored = _stored_files(tmp_path / "home")
    with pytest.raises(Conflict) as refused:
        client.models.register("cancer", run_id)
    _blocked(refused.value, "registration")
    assert _stored_files(tmp_path / "home") == stored  # no report of the refused version
    assert [v.version for v in client.models.get("cancer").versions] == [1, 2]
    [failed] = client.iam.audit_events(action="registry:RegisterModel")[:1]
    assert failed.outcome == "failed" and "min_absolute_change=0.005" in failed.detail["error"]

    strong = kit.fit_classifier(frame, "label", 10)
    passed = kit.register(client, tmp_path, "cancer", *strong, "label")
    assert passed == 3
    [check] = client.models.version("cancer@3").gate_checks
    assert check.stage == "register" and check.passed and "auc = 0.9" in check.reason
    assert check.evaluation_id is not None
    assert client.evaluations.get(check.evaluation_id).ref == "cancer@3"


def test_approval_is_blocked_with_the_reason_on_the_version(client: Client, tmp_path: Path) -> None:
    _gated_model(client, tmp_path)
    with pytest.raises(Conflict) as refused:
        client.models.set_approval("cancer", 2, "Approved")
    _blocked(refused.value, "approval")
    version = client.models.version("cancer@2")
    assert version.approval == "PendingManualApproval"
    [check] = version.gate_checks
    assert (check.stage, check.passed) == ("approve", False)
    assert check.reason == refused.value.message
    client.models.set_approval("cancer", 2, "Rejected")  # only approval is gated
    # The champion meets the threshold; it is not compared with itself.
    approved = client.models.set_approval("cancer", 1, "Approved")
    assert approved.approval == "Approved"
    assert "comparison rules skipped" in approved.gate_checks[0].reason


def test_deployment_is_blocked_and_passes_when_met(client: Client, tmp_path: Path) -> None:
    _, frame = _gated_model(client, tmp_path)
    with pytest.raises(Conflict) as refused:
        client.endpoints.create("live", "cancer@2")
    _blocked(refused.value, "deployment")
    with pytest.raises(NotFound):
        client.endpoints.get("live")
    client.endpoints.create("live", "cancer@champion")
    with pytest.raises(Conflict) as refused:
        client.endpoints.update("live", "cancer@2")
    _blocked(refused.value, "deployment")
    with pytest.raises(Conflict) as refused:
        client.deployments.start("live", "cancer@2", strategy="all-at-once", bake="0s")
    _blocked(refused.value, "deployment")
    assert client.deployments.list("live") == []
    assert client.endpoints.get("live").model_version == 1
    evaluations = len(client.evaluations.list("cancer"))

    client.evaluations.set_gate(
        "cancer", "cancer-data", baseline="champion", stages=["deploy"], **RULES
    )
    strong = kit.register(
        client, tmp_path, "cancer", *kit.fit_classifier(frame, "label", 10), "label"
    )
    updated = client.endpoints.update("live", f"cancer@{strong}")
    assert updated.model_version == strong
    checks = client.models.version(f"cancer@{strong}").gate_checks
    assert [(c.stage, c.passed) for c in checks] == [("deploy", True)]
    assert len(client.evaluations.list("cancer")) == evaluations + 1  # cancer@1's is reused

    client.evaluations.delete_gate("cancer")
    with pytest.raises(NotFound):
        client.evaluations.get_gate("cancer")
    assert client.endpoints.update("live", "cancer@2").model_version == 2


@pytest.mark.parametrize(
    ("arguments", "field", "words"),
    [
        ({"thresholds": {"bogus": {"threshold": 1}}}, "thresholds.bogus", "unknown metric"),
        ({"thresholds": {}}, "thresholds", "at least one"),
        (
            {"thresholds": {"auc": {"min_absolute_change": 0.1}}, "baseline": None},
            "baseline",
            "need a baseline",
        ),
        ({"stages": ["ship"]}, "stages.0", ""),
        ({"stages": []}, "stages", "at least one"),
        ({"data": "cancer-data@alias"}, "data", "not alias"),
        ({"baseline": "cancer@x@y"}, "baseline", ""),
    ],
)
def test_bad_gates_are_refused_naming_the_field(
    client: Client, tmp_path: Path, arguments: dict[str, object], field: str, words: str
) -> None:
    frame = kit.cancer_frame()
    kit.ingest(client, tmp_path, frame, "cancer-data")
    kit.register(client, tmp_path, "cancer", *kit.fit_classifier(frame, "label", 2), "label")
    call = {
        "name": "cancer",
        "data": "cancer-data",
        "thresholds": {"auc": {"threshold": 0.9}},
        **arguments,
    }
    with pytest.raises(InvalidInput) as refused:
        client.transport.call("evaluation.set_gate", **call)
    assert refused.value.field == field
    assert words in refused.value.message
    with pytest.raises(NotFound):
        client.evaluations.get_gate("cancer")
