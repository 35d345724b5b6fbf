"""Contracts through the SDK, in-process and over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.client import Client
from shipyard.config import Settings
from shipyard.contracts import contract_yaml, parse_contract
from shipyard.errors import InvalidInput, NotFound


def orders_csv(path: Path, rows: int = 120, *, broken: bool = False) -> Path:
    lines = ["id,amount,country,sku"]
    for i in range(rows):
        amount, country, sku = f"{(i * 7) % 90 + 5}.5", ["DE", "FR", "US"][i % 3], f"AB{1000 + i}"
        if broken and i in (3, 4):
            country = "XX"
        if broken and i == 5:
            sku = "bad"
        if broken and i == 6:
            amount = "-1.0"
        lines.append(f"{i if not (broken and i == 8) else 7},{amount},{country},{sku}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_suggest_apply_validate_and_store_reports(client: Client, tmp_path: Path) -> None:
    first = client.datasets.ingest(orders_csv(tmp_path / "v1.csv"), "orders")
    suggestion = client.contracts.suggest("orders@1")
    assert suggestion.baseline == "orders@1"
    assert suggestion.contract.dataset == "orders" and suggestion.contract.name == "orders"
    applied = client.contracts.apply(suggestion.contract)
    assert (applied.ref, applied.created) == ("orders@1", True)
    again = client.contracts.apply(parse_contract(suggestion.yaml))
    assert (again.version, again.created) == (1, False)
    edited = suggestion.yaml.replace("type: string", "type: string\n    severity: warn", 1)
    path = tmp_path / "contract.yaml"
    path.write_text(edited)
    assert client.contracts.apply(path).version == 2
    assert [(c.name, c.versions, c.latest_version) for c in client.contracts.list()] == [
        ("orders", 2, 2)
    ]
    assert client.contracts.get("orders@1").contract == suggestion.contract
    assert (
        contract_yaml(client.contracts.get("orders").contract)
        == client.contracts.get("orders@2").yaml
    )

    passed = client.contracts.validate(first.ref, "orders@1")
    assert (passed.status, passed.dataset, passed.contract) == ("passed", "orders@1", "orders@1")
    assert passed.id is not None and passed.created_at is not None

    client.datasets.ingest(orders_csv(tmp_path / "v2.csv", broken=True), "orders")
    failed = client.contracts.validate("orders@2", "orders@1")
    assert failed.status == "failed"
    labels = {c.label: c for c in failed.failures()}
    assert set(labels) == {
        "country.allowed_values",
        "sku.pattern",
        "amount.range",
        "id.unique",
    }
    assert labels["country.allowed_values"].failing_rows == 2
    assert labels["country.allowed_values"].sample[0]["_row"] == 3
    assert labels["amount.range"].severity == "warn"

    stored = client.contracts.report(failed.id or 0)
    assert stored == failed
    summaries = client.contracts.validations("orders")
    assert [(s.dataset, s.status) for s in summaries] == [
        ("orders@2", "failed"),
        ("orders@1", "passed"),
    ]
    assert [s.id for s in client.contracts.validations("orders@1")] == [passed.id]


def test_bad_contracts_and_references(client: Client, tmp_path: Path) -> None:
    client.datasets.ingest(orders_csv(tmp_path / "v1.csv"), "orders")
    with pytest.raises(InvalidInput) as caught:
        client.contracts.apply(
            {"name": "c", "dataset": "orders", "columns": {"amuont": {"not_null": True}}}
        )
    assert caught.value.field == "columns.amuont" and "'amuont'" in caught.value.message
    with pytest.raises(InvalidInput) as caught:
        client.contracts.apply(
            {"name": "c", "dataset": "orders", "columns": {"country": {"mean": {"min": 1}}}}
        )
    assert caught.value.field == "columns.country.mean"
    with pytest.raises(InvalidInput) as caught:
        client.contracts.apply({"name": "c", "dataset": "nope", "columns": {}})
    assert caught.value.field == "dataset"
    with pytest.raises(InvalidInput) as caught:
        client.contracts.apply({"name": "c", "colums": {}})
    assert caught.value.field == "document.colums" or caught.value.field == "colums"
    assert client.contracts.list() == []

    client.contracts.apply({"name": "loose", "columns": {"missing": {"not_null": True}}})
    with pytest.raises(InvalidInput) as caught:
        client.contracts.validate("orders@1", "loose")
    assert caught.value.field == "columns.missing"
    assert client.contracts.validations("orders") == []
    with pytest.raises(NotFound):
        client.contracts.validate("orders@1", "absent")
    with pytest.raises(NotFound):
        client.contracts.get("loose@9")
    with pytest.raises(NotFound):
        client.contracts.report(12345)
    with pytest.raises(InvalidInput):
        client.contracts.validate("orders@latest", "loose")


def test_ingest_through_a_contract(client: Client, tmp_path: Path) -> None:
    client.datasets.ingest(orders_csv(tmp_path / "v1.csv"), "orders")
    client.contracts.apply(client.contracts.suggest("orders").contract)
    broken = orders_csv(tmp_path / "broken.csv", broken=True)

    with pytest.raises(InvalidInput) as caught:
        client.datasets.ingest(broken, "orders", contract="orders", on_fail="reject")
    assert caught.value.field == "contract"
    assert "country.allowed_values (2 rows)" in caught.value.message
    assert [v.version for v in client.datasets.versions("orders")] == [1]

    outcome = client.contracts.ingest(broken, "orders", "orders@1", on_fail="quarantine")
    assert outcome.outcome == "quarantined"
    assert outcome.dataset is not None and outcome.quarantine is not None
    assert (outcome.dataset.ref, outcome.dataset.rows) == ("orders@2", 115)
    assert (outcome.quarantine.ref, outcome.quarantine.rows) == ("orders-quarantine@1", 5)
    quarantined = client.datasets.head("orders-quarantine@1", rows=10)
    assert quarantined.columns[-1] == "_reasons"
    reasons = {r["id"]: r["_reasons"] for r in quarantined.rows}
    assert reasons == {
        3: "country.allowed_values",
        4: "country.allowed_values",
        5: "sku.pattern",
        7: "id.unique",
    }
    assert outcome.report.status == "failed" and outcome.report.dataset == "orders-quarantine@1"
    good = client.contracts.validations("orders@2")
    assert [s.status for s in good] == ["warned"]

    warned = client.contracts.ingest(broken, "orders", "orders", on_fail="warn")
    assert (warned.outcome, warned.dataset and warned.dataset.rows) == (
        "stored_with_failures",
        120,
    )
    assert client.contracts.validations("orders@3")[0].status == "failed"
    clean = client.datasets.ingest(
        orders_csv(tmp_path / "clean.csv", rows=60), "orders", contract="orders"
    )
    assert clean.version == 4 and clean.rows == 60
    with pytest.raises(InvalidInput) as caught:
        client.contracts.ingest(broken, "orders", "orders", on_fail="explode")
    assert caught.value.field == "on_fail"


def test_training_refuses_a_failed_dataset_unless_forced(client: Client, tmp_path: Path) -> None:
    client.datasets.ingest(orders_csv(tmp_path / "v1.csv"), "orders")
    client.contracts.apply(client.contracts.suggest("orders").contract)
    client.contracts.ingest(
        orders_csv(tmp_path / "broken.csv", broken=True), "orders", "orders", on_fail="warn"
    )
    spec = {
        "dataset": "orders@2",
        "target": "country",
        "features": ["amount"],
        "task": "classification",
        "estimator": "sklearn.tree.DecisionTreeClassifier",
        "experiment": "contracts",
    }
    with pytest.raises(InvalidInput) as caught:
        client.training.submit(spec)
    assert caught.value.field == "dataset"
    assert "orders@2 failed its latest validation" in caught.value.message
    assert "force" in caught.value.message
    assert client.training.list() == []


def test_forced_training_runs_on_a_failed_dataset(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    with Client(settings=settings) as client:
        client.datasets.ingest(orders_csv(tmp_path / "v1.csv"), "orders")
        client.contracts.apply(client.contracts.suggest("orders").contract)
        client.contracts.ingest(
            orders_csv(tmp_path / "broken.csv", broken=True), "orders", "orders", on_fail="warn"
        )
        spec = {
            "dataset": "orders@2",
            "target": "country",
            "features": ["amount"],
            "task": "classification",
            "estimator": "sklearn.tree.DecisionTreeClassifier",
            "experiment": "contracts",
            "force": True,
        }
        job = client.training.train(spec, timeout=120)
        assert job.status == "succeeded" and job.spec["force"] is True


def test_large_versions_are_validated_in_streamed_parts(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", ingest_in_memory_max_bytes=0)
    with Client(settings=settings) as client:
        client.datasets.ingest(orders_csv(tmp_path / "v1.csv"), "orders")
        client.contracts.apply(client.contracts.suggest("orders").contract)
        client.datasets.ingest(orders_csv(tmp_path / "v2.csv", broken=True), "orders")
        streamed = client.contracts.validate("orders@2", "orders")
    with Client(settings=Settings(home=tmp_path / "home")) as client:
        in_memory = client.contracts.validate("orders@2", "orders")
    assert streamed.status == in_memory.status == "failed"
    assert streamed.checks == in_memory.checks
    assert streamed.drift == in_memory.drift
