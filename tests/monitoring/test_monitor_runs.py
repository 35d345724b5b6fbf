"""Runs of a monitor through the SDK on both transports and both databases: history, the
HTML report, Prometheus text, the metric series, and deletion."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.monitoring.monitorkit import (
    CAPTURE,
    frame,
    ingest_training,
    now,
    register,
    write_capture,
)

from shipyard import errors
from shipyard.client import Client
from shipyard.monitoring import metric_points
from shipyard.platform import Platform


def test_a_run_is_stored_with_its_report_metrics_and_series(
    platform: Platform, client: Client
) -> None:
    register(platform, ingest_training(platform))
    client.endpoints.create("ep", model="churn@1", capture=CAPTURE)
    info = client.monitors.create(
        "mon", endpoint="ep", kinds=["data", "prediction", "estimated"], schedule="1h"
    )
    assert (info.baseline, info.kinds, info.schedule_seconds) == (
        None,
        ["data", "prediction", "estimated"],
        3600,
    )
    start = now() - timedelta(minutes=1)
    rows = frame(400, seed=5).astype({"x0": object})
    rows.loc[3, "x0"] = "oops"  # a value of the wrong type
    write_capture(platform, "ep", rows)
    end = now() + timedelta(seconds=1)

    run = client.monitors.run("mon", window_start=start, window_end=end)
    assert (run.number, run.status, run.trigger, run.requests) == (1, "succeeded", "manual", 400)
    assert set(run.summary) == {"drift_share", "prediction_drifted", "requests"}
    assert run.summary["prediction_drifted"] in (0.0, 1.0)  # one scale, whatever the method
    result = client.monitors.result("mon")
    (primary,) = result["variants"]
    assert primary["schema_violations"] == 1
    assert primary["estimated"]["metrics"]["accuracy"] == pytest.approx(0.75, abs=0.01)
    assert primary["quality"] is None and primary["attribution"] is None
    assert [h.id for h in client.monitors.history("mon")] == [run.id]
    assert client.monitors.get("mon").last_run == run
    (listed,) = client.monitors.list()  # status, not the figures read from the capture
    assert listed.last_run is not None and listed.last_run.status == "succeeded"
    assert (listed.last_run.summary, listed.last_run.message) == ({}, "")

    html = client.monitors.report("mon").decode()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "x0" in html
    assert "<script" not in html and "http" not in html.replace("http://www.w3.org", "")

    text = client.monitors.metrics("mon")
    assert 'shipyard_monitor_requests{monitor="mon",endpoint="ep",variant=""} 400.0' in text
    assert 'shipyard_monitor_requests{monitor="mon",endpoint="ep",variant="primary"} 400.0' in text
    assert (
        'shipyard_monitor_feature_drift{monitor="mon",endpoint="ep",variant="",feature="x0"}'
        in text
    )
    assert "# TYPE shipyard_monitor_drift_share gauge" in text

    with platform.db.session() as session:
        (point,) = metric_points(session, "mon", "schema_violations@primary")
        assert (point.time, point.value, point.samples) == (end, 1.0, 400)
        assert metric_points(session, "mon", "requests", since=end + timedelta(seconds=1)) == []

    assert [m.name for m in client.monitors.list(endpoint="ep")] == ["mon"]
    client.monitors.delete("mon")
    assert client.monitors.list() == []
    with platform.db.session() as session, pytest.raises(errors.NotFound):
        metric_points(session, "mon", "requests")
