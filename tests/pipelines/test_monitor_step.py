"""The monitor step: a pipeline's last step watches the endpoint, as its principal."""

from __future__ import annotations

from typing import Any

import pytest
from tests.monitoring.monitorkit import ingest_training, register
from tests.pipelines.conftest import wait_run
from tests.pipelines.test_triggers import _user

from shipyard import endpoints, monitoring, pipelines
from shipyard.errors import AccessDenied, NotFound
from shipyard.security import RequestContext


def _watcher(schedule: str = "1h") -> dict[str, Any]:
    return {
        "name": "watch",
        "parameters": {"schedule": schedule},
        "steps": [
            {"name": "read", "kind": "ingest", "with": {"from": "train"}},
            {
                "name": "watch",
                "kind": "monitor",
                "with": {
                    "monitor": "churn-drift",
                    "endpoint": "ep",
                    "schedule": "${params.schedule}",
                    "kinds": ["data", "prediction"],
                    "baseline": "${steps.read.dataset}",
                },
            },
        ],
    }


@pytest.fixture
def served(admin: RequestContext) -> None:
    register(admin.platform, ingest_training(admin.platform))  # churn@1, trained on train@1
    endpoints.create_endpoint(admin, "ep", "churn@1", capture=endpoints.CaptureConfig())


@pytest.mark.usefixtures("served")
def test_the_last_step_creates_then_keeps_then_replaces_the_monitor(admin: RequestContext) -> None:
    pipelines.create_pipeline(admin, _watcher())
    done = wait_run(admin, pipelines.start_pipeline_run(admin, "watch").id)
    assert done.status == "succeeded", done.message
    assert done.step("watch").outputs == {
        "monitor": "churn-drift",
        "endpoint": "ep",
        "created": True,
    }
    info = monitoring.get_monitor(admin, "churn-drift")
    assert (info.endpoint, info.baseline, info.kinds) == ("ep", "train@1", ["data", "prediction"])
    assert info.schedule_seconds == 3600 and info.created_by == admin.principal
    assert pipelines.produced_by(admin.platform, "monitor", "churn-drift") == [
        ("watch", done.id, "watch")
    ]
    again = wait_run(admin, pipelines.start_pipeline_run(admin, "watch").id)
    assert again.status == "succeeded" and again.step("watch").outputs["created"] is False
    changed = pipelines.start_pipeline_run(admin, "watch", parameters={"schedule": "15m"})
    assert wait_run(admin, changed.id).step("watch").outputs["created"] is True
    assert monitoring.get_monitor(admin, "churn-drift").schedule_seconds == 900


@pytest.mark.usefixtures("served")
@pytest.mark.parametrize(
    "missing", ["monitoring:CreateMonitor", "monitoring:DeleteMonitor"]
)  # the step replaces a monitor whose definition changed: it may delete one
def test_who_may_not_monitor_the_endpoint_is_refused_at_start(
    admin: RequestContext, missing: str
) -> None:
    pipelines.create_pipeline(admin, _watcher())
    given = ["monitoring:CreateMonitor", "monitoring:DeleteMonitor"]
    eve = _user(
        admin.platform,
        "eve",
        [
            "pipelines:*",
            "datasets:ReadData",
            "registry:GetModelVersion",
            "endpoints:ReadCapture",
            "monitoring:DescribeMonitor",
            *(a for a in given if a != missing),
        ],
    )
    with pytest.raises(AccessDenied, match=missing):
        pipelines.start_pipeline_run(eve, "watch")
    assert pipelines.list_pipeline_runs(admin, "watch").items == []
    with pytest.raises(NotFound):
        monitoring.get_monitor(admin, "churn-drift")
