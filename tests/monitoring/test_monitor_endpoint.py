"""A monitor over a real endpoint served on 127.0.0.1 with capture: stable traffic, then
traffic with synthetic drift; labels posted late; per variant results; stored runs."""

from __future__ import annotations

from typing import Any

from tests.endpoints.dataplanekit import serving, wait_for
from tests.monitoring.monitorkit import (
    captured_rows,
    frame,
    ingest_training,
    now,
    register,
    send,
)

from shipyard.client import Client
from shipyard.monitoring import metric_points
from shipyard.platform import Platform
from shipyard.serving import ServingSettings

SETTINGS = ServingSettings(poll_seconds=0.05, report_seconds=0.2, capture_flush_rows=50)
ROWS, SINGLE, BATCH = 6000, 100, 100
REQUESTS = SINGLE + (ROWS - SINGLE) // BATCH


def _variant(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(v for v in result["variants"] if v["variant"] == name)


def _drifted(variant: dict[str, Any]) -> set[str]:
    return {f["feature"] for f in variant["features"] if f["drifted"]}


def test_drift_is_flagged_only_in_the_drifted_window_and_late_labels_count(
    platform: Platform,
) -> None:
    data = ingest_training(platform)
    register(platform, data, trees=40)
    register(platform, data, trees=3)
    with Client(settings=platform.settings) as client:
        client.endpoints.create(
            "churn-ep",
            variants=[
                {"name": "blue", "model": "churn@1", "weight": 1.0},
                {"name": "green", "model": "churn@2", "weight": 1.0},
            ],
            capture={"enabled": True, "sampling_percent": 100, "mode": "both"},
        )
        client.monitors.create(
            "churn-mon",
            endpoint="churn-ep",
            schedule="1h",
            kinds=["data", "prediction", "quality", "estimated", "attribution"],
        )
        # windows large enough (about 3000 rows a variant) that sampling noise stays well
        # under the 0.1 distance thresholds
        stable, drifted = frame(ROWS, seed=2), frame(ROWS, seed=3, drift=True)
        with serving(platform, "churn-ep", SETTINGS) as served, served.client() as http:
            t0 = now()
            first = send(http, stable.iloc[:SINGLE]) | send(http, stable.iloc[SINGLE:], BATCH)
            t1 = now()
            send(http, drifted.iloc[:SINGLE])
            send(http, drifted.iloc[SINGLE:], BATCH)
            t2 = now()
            wait_for(lambda: captured_rows(platform, "churn-ep") >= 2 * REQUESTS)

            run1 = client.monitors.run("churn-mon", window_start=t0, window_end=t1)
            assert run1.status == "succeeded" and run1.requests == REQUESTS
            labels = [
                {"request_id": request_id, "label": rows[0] if len(rows) == 1 else rows}
                for request_id, rows in first.items()
            ]
            assert http.post("/feedback", json=labels).status_code == 202

        run2 = client.monitors.run("churn-mon", window_start=t1, window_end=t2)
        assert run2.number == 2
        one = client.monitors.result("churn-mon", run=1)
        two = client.monitors.result("churn-mon", run=2)
        report = client.monitors.report("churn-mon").decode()
        assert "Over time" in report and "Attribution drift" in report and "CBPE" in report
        assert [r.number for r in client.monitors.history("churn-mon")] == [2, 1]

    for name in ("blue", "green"):
        before, after = _variant(one, name), _variant(two, name)
        assert before["baseline"] == "train@1"
        assert _drifted(before) == set(), before["features"]
        assert before["dataset_drift"] is False
        assert {"x0", "x2", "colour"} <= _drifted(after)
        assert after["dataset_drift"] is True
        assert before["unseen_share"] == 0 and after["unseen_share"] > 0.05
        assert before["missing_share"] == 0 and after["missing_share"] > 0.02
        assert before["schema_violations"] == after["schema_violations"] == 0
        methods = {f["method"] for f in after["features"]}
        assert methods == {"wasserstein", "jensenshannon"}
        assert before["quality"] is None  # labels had not arrived when window 1 ran
        assert before["estimated"]["refused"] is None
    blue_before, blue_after = _variant(one, "blue"), _variant(two, "blue")
    assert blue_before["attribution"]["drifted"] is False
    assert blue_after["attribution"]["drifted"] is True
    # x0 stuck at its mean moves the predicted classes only a little (about 50% -> 58%
    # positive): the prediction's distance grows, below the 0.1 Jensen-Shannon threshold
    assert blue_after["prediction"]["score"] > 2 * blue_before["prediction"]["score"]
    assert blue_after["prediction"]["method"] == "jensenshannon"

    with platform.db.session() as session:
        accuracy = {
            name: metric_points(session, "churn-mon", f"quality.accuracy@{name}")
            for name in ("blue", "green")
        }
        drift = metric_points(session, "churn-mon", "drift_share")
        estimated = metric_points(session, "churn-mon", "estimated.accuracy@blue")
    # the late labels of window 1 were counted in window 1 when window 2 ran
    for name, points in accuracy.items():
        assert [p.time for p in points] == [t1], name
        assert points[0].samples > 100
    assert sum(points[0].samples for points in accuracy.values()) == ROWS  # every label
    assert all(0.7 < points[0].value < 0.9 for points in accuracy.values())
    assert abs(estimated[0].value - accuracy["blue"][0].value) < 0.1
    assert [p.time for p in drift] == [t1, t2]
    assert drift[0].value == 0 and drift[1].value >= 0.5
