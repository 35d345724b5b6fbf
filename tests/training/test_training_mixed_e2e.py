"""A generated mixed CSV, from ingest to a served endpoint and a batch transform, with no
hand encoding; and the same CSV stored whole or shuffled and partitioned trains alike."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from tests.conftest import LiveServer
from tests.training.conftest import endpoint_caller, messy_frame

from shipyard.client import Client
from shipyard.endpoints import build_serving_app
from shipyard.platform import Platform


def _spec(dataset: str, **fields: Any) -> dict[str, Any]:
    return {
        "dataset": dataset,
        "target": "churned",
        "task": "classification",
        "estimator": "sklearn.linear_model.LogisticRegression",
        "experiment": "tests",
        **fields,
    }


def _counted(metrics: str, column: str, kind: str) -> float:
    for line in metrics.splitlines():
        labels = re.fullmatch(r"shipyard_serving_input_values_total\{(.*)\} (\S+)", line)
        if labels and f'column="{column}"' in labels[1] and f'kind="{kind}"' in labels[1]:
            return float(labels[2])
    raise AssertionError(f"no {kind} count for {column}")


def test_a_mixed_csv_trains_serves_and_counts_nulls_and_unseen_categories(
    platform: Platform, sdk: Client, tmp_path: Path
) -> None:
    messy_frame().to_csv(tmp_path / "churn.csv", index=False)
    dataset = sdk.datasets.ingest(tmp_path / "churn.csv", "churn").ref
    types = {c["name"]: c["type"] for c in sdk.datasets.get(dataset).columns}
    assert types["signup"] == "timestamp" and types["mobile"] == "boolean"

    job = sdk.training.train(_spec(dataset), timeout=180)
    assert job.run_id is not None
    sdk.models.register("churn-model", job.run_id)
    sdk.endpoints.create("churn", "churn-model@1")
    app = build_serving_app(platform, "churn")
    live = LiveServer(app)
    try:
        key = endpoint_caller(platform, "churn", ["endpoints:Invoke", "endpoints:ReadMetrics"])
        headers = {"Authorization": f"Bearer {key}"}
        records = [
            {
                "city": "atlantis",
                "plan": "pro",
                "spend": None,
                "visits": 3,
                "mobile": True,
                "signup": "2023-08-01T10:00:00Z",
            },
            {
                "city": None,
                "plan": "free",
                "spend": 12.5,
                "visits": 1,
                "mobile": False,
                "signup": 1690884000,
            },
        ]
        answer = httpx.post(
            f"{live.url}/invocations", json={"dataframe_records": records}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["predictions"]) == 2
        csv = "city,plan,spend,visits,mobile,signup\nnice,team,,4,true,2023-02-03 04:05:06\n"
        as_csv = httpx.post(
            f"{live.url}/invocations",
            content=csv,
            headers={**headers, "Content-Type": "text/csv"},
        )
        assert as_csv.status_code == 200, as_csv.text
        bad_time = [{**records[1], "signup": "last tuesday"}]
        refused = httpx.post(
            f"{live.url}/invocations", json={"dataframe_records": bad_time}, headers=headers
        )
        assert refused.status_code == 400 and "signup" in refused.text

        metrics = httpx.get(f"{live.url}/metrics", headers=headers).text
        assert _counted(metrics, "city", "unseen_category") == 1
        assert _counted(metrics, "city", "null") == 1
        assert _counted(metrics, "spend", "null") == 2
        assert _counted(metrics, "plan", "unseen_category") == 0
        assert _counted(metrics, "signup", "null") == 0
    finally:
        live.close()
        app.authorizer.stop()  # type: ignore[attr-defined]

    scored = sdk.batch.transform("churn-model@1", dataset, "churn-scored", timeout=180)
    assert scored.status == "succeeded"
    assert sdk.datasets.get(scored.output_version or "").rows == 600


def test_whole_and_shuffled_partitioned_ingests_train_to_the_same_metrics(
    sdk: Client, tmp_path: Path
) -> None:
    frame = messy_frame(n=400)
    frame.to_csv(tmp_path / "whole.csv", index=False)
    frame.sample(frac=1.0, random_state=5).to_csv(tmp_path / "shuffled.csv", index=False)
    whole = sdk.datasets.ingest(tmp_path / "whole.csv", "whole").ref
    parts = sdk.datasets.ingest(tmp_path / "shuffled.csv", "parts", partition_by="plan").ref
    fields = {"split": {"kind": "kfold", "folds": 3, "seed": 2}}

    metrics = []
    for dataset in (whole, parts):
        job = sdk.training.train(_spec(dataset, **fields), timeout=180)
        assert job.run_id is not None
        logged = sdk.tracking.get_run(job.run_id).metrics
        metrics.append({k: v for k, v in logged.items() if not k.startswith("system/")})

    assert metrics[0] and metrics[0] == metrics[1]
