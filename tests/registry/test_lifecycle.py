"""From a dataset to a registered, aliased, approved model with lineage, through the SDK."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fixtures.lifecycle import ingest_breast_cancer, lightgbm_spec

from shipyard.client import Client
from shipyard.errors import Conflict, InvalidInput, NotFound


def test_train_register_alias_approve_and_lineage(client: Client, tmp_path: Path) -> None:
    dataset = ingest_breast_cancer(client, tmp_path)
    logs: list[str] = []
    first = client.training.train(lightgbm_spec(dataset), on_log=logs.append, timeout=120)
    assert first.status == "succeeded" and first.run_id
    assert "finished" in "".join(logs)
    run = client.tracking.get_run(first.run_id)
    assert run.inputs == [dataset]
    assert {"model/model.bin", "model/meta.json"} <= {a.path for a in run.artifacts}
    assert 0.85 < run.metrics["accuracy"] <= 1.0

    again = client.training.train(lightgbm_spec(dataset), timeout=120)
    assert again.run_id
    same = client.tracking.get_run(again.run_id).metrics  # same spec and seed: same scores
    assert _model_metrics(same) == _model_metrics(run.metrics)  # system/* is sampled in time

    v1 = client.models.register("bc", first.run_id)
    v2 = client.models.register("bc", again.run_id)
    assert (v1.version, v2.version) == (1, 2)
    assert v1.approval == "PendingManualApproval"
    assert [c["name"] for c in v1.signature["inputs"]][:2] == ["mean_radius", "mean_texture"]
    assert v1.signature["classes"] == ["benign", "malignant"]

    client.models.set_alias("bc", "champion", 2)
    assert client.models.version("bc@champion").version == 2
    client.models.set_alias("bc", "champion", 1)
    assert client.models.version("bc@champion").version == 1
    assert client.models.set_approval("bc", 1, "Approved").approval == "Approved"
    rejected = client.models.set_approval("bc", 2, "Rejected", reason="worse recall on holdout")
    assert (rejected.approval, rejected.approval_reason) == ("Rejected", "worse recall on holdout")
    assert rejected.approval_by and rejected.approval_at
    assert client.models.version("bc@2").approval_reason == "worse recall on holdout"
    history = client.models.approval_history("bc", 2)
    assert [(d.status, d.reason, d.principal) for d in history] == [
        ("Rejected", "worse recall on holdout", rejected.approval_by)
    ]
    assert [d.reason for d in client.models.approval_history("bc", 1)] == [None]
    event = client.iam.audit_events(action="registry:UpdateApproval", limit=1)[0]
    assert event.detail["reason"] == "worse recall on holdout"
    assert event.resource.endswith("bc/2")
    assert client.models.get("bc").aliases == {"champion": 1}

    upstream = client.models.lineage("bc@1")
    assert (f"dataset:{dataset}", f"run:{first.run_id}") in upstream.edges
    assert (f"run:{first.run_id}", "model:bc@1") in upstream.edges
    downstream = client.models.lineage(dataset, kind="dataset")
    assert {n.id for n in downstream.nodes} >= {"model:bc@1", "model:bc@2"}

    endpoint = client.endpoints.create("bc-live", "bc@champion")
    assert (endpoint.model, endpoint.model_version) == ("bc", 1)
    with pytest.raises(Conflict):
        client.endpoints.create("bc-live", "bc@2")


def test_registry_bad_input_writes_nothing(client: Client, tmp_path: Path) -> None:
    dataset = ingest_breast_cancer(client, tmp_path)
    job = client.training.train(lightgbm_spec(dataset), timeout=120)
    assert job.run_id
    client.models.register("bc", job.run_id)
    with pytest.raises(NotFound) as alias:
        client.models.version("bc@nosuchalias")
    assert alias.value.field == "alias"
    with pytest.raises(NotFound):
        client.endpoints.create("e", "bc@nosuchalias")
    with pytest.raises(NotFound):
        client.endpoints.create("e", "nosuchmodel@1")
    assert client.endpoints.list() == []
    with pytest.raises(InvalidInput) as status:
        client.models.set_approval("bc", 1, "Maybe")
    assert status.value.field == "status"
    with pytest.raises(InvalidInput) as reason:
        client.models.set_approval("bc", 1, "Approved", reason="x" * 1001)
    assert reason.value.field == "reason" and "1000" in str(reason.value)
    assert client.models.version("bc@1").approval == "PendingManualApproval"
    assert client.models.approval_history("bc", 1) == []
    with pytest.raises(InvalidInput):
        client.models.set_alias("bc", "3", 1)
    with pytest.raises(NotFound):
        client.models.register("bc", "no-such-run")
    assert client.models.get("bc").latest_version == 1


@pytest.mark.parametrize(
    ("override", "error", "field"),
    [
        ({"estimator": "sklearn.svm.NoSuchThing"}, InvalidInput, "estimator"),
        ({"params": {"n_estimators": 5, "bogus": 1}}, InvalidInput, "params.bogus"),
        ({"target": "nope"}, InvalidInput, "target"),
        ({"dataset": "missing@1"}, NotFound, "dataset"),
        ({"task": "clustering"}, InvalidInput, "task"),
        ({"surprise": True}, InvalidInput, "surprise"),
    ],
)
def test_bad_training_specs_are_refused_before_any_job(
    client: Client, tmp_path: Path, override: dict[str, object], error: type[Exception], field: str
) -> None:
    dataset = ingest_breast_cancer(client, tmp_path)
    with pytest.raises(error) as caught:
        client.training.submit({**lightgbm_spec(dataset), **override})
    assert field in str(getattr(caught.value, "field", ""))
    assert client.training.list() == []


def test_target_with_nulls_is_refused(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "nulls.csv"
    path.write_text("x,y\n1,a\n2,\n3,b\n4,a\n")
    ref = client.datasets.ingest(path, "nulls").ref
    with pytest.raises(InvalidInput, match="null") as caught:
        client.training.submit(lightgbm_spec(ref, target="y"))
    assert caught.value.field == "target"


def _model_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """The model's scores, without the job's utilization samples (``system/...``), which a
    slow run has and a quick one may not."""
    return {k: v for k, v in metrics.items() if not k.startswith("system/")}
