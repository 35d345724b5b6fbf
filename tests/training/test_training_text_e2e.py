"""A CSV with a free-text column, from ingest to a registered model that serves new text
(unseen words and a null included) and scores a batch."""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.conftest import LiveServer
from tests.training.conftest import endpoint_caller, review_frame

from shipyard.client import Client
from shipyard.endpoints import build_serving_app
from shipyard.platform import Platform


def test_free_text_trains_registers_serves_and_scores_a_batch(
    platform: Platform, sdk: Client, tmp_path: Path
) -> None:
    review_frame().to_csv(tmp_path / "reviews.csv", index=False)
    dataset = sdk.datasets.ingest(tmp_path / "reviews.csv", "reviews").ref
    spec = {
        "dataset": dataset,
        "target": "liked",
        "task": "classification",
        "estimator": "sklearn.linear_model.LogisticRegression",
        "experiment": "tests",
        "preprocessing": {"text": {"max_features": 200}},
    }

    job = sdk.training.train(spec, timeout=180)
    assert job.run_id is not None
    assert sdk.tracking.get_run(job.run_id).metrics["accuracy"] > 0.75
    sdk.models.register("reviews-model", job.run_id)
    sdk.endpoints.create("rev", "reviews-model@1")
    app = build_serving_app(platform, "rev")
    live = LiveServer(app)
    try:
        records = [
            {
                "review": "overall the zorblax was superb and really wonderful, a quixotic joy",
                "price": 30.0,
                "channel": "phone",
            },
            {
                "review": "frankly my gizmo was dreadful and really awful, never again",
                "price": 30.0,
                "channel": "phone",
            },
            {"review": None, "price": None, "channel": "fax"},
        ]
        key = endpoint_caller(platform, "rev", ["endpoints:Invoke"])
        answer = httpx.post(
            f"{live.url}/invocations",
            json={"dataframe_records": records},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["predictions"][:2] == ["yes", "no"]
        assert len(answer.json()["predictions"]) == 3
    finally:
        live.close()
        app.authorizer.stop()  # type: ignore[attr-defined]

    scored = sdk.batch.transform("reviews-model@1", dataset, "reviews-scored", timeout=180)
    assert scored.status == "succeeded"
    assert sdk.datasets.get(scored.output_version or "").rows == 600
