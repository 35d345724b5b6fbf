"""Monitors as scheduled work: each window runs as the monitor's creator, and stops (saying
why) once that principal may no longer read the endpoint; nobody reaches another
endpoint's traffic through a monitor."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from tests.endpoints.dataplanekit import embedded
from tests.monitoring.monitorkit import CAPTURE, ingest_training, now, register

from shipyard import errors
from shipyard.client import Client
from shipyard.monitoring._scheduled import SOURCE
from shipyard.operations import BY_NAME
from shipyard.scheduling import Due
from shipyard.security import context_for

WATCHER = {
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "monitoring:*",
                "endpoints:ReadCapture",
                "registry:GetModelVersion",
                "datasets:ReadData",
            ],
            "Resource": "*",
        }
    ]
}


def test_a_window_runs_as_its_creator_until_the_creator_loses_the_endpoint(
    tmp_path: Path,
) -> None:
    with embedded(tmp_path) as platform, Client(settings=platform.settings) as admin:
        register(platform, ingest_training(platform))
        admin.endpoints.create("ep", model="churn@1", capture=CAPTURE)
        admin.iam.create_principal("watcher")
        admin.iam.put_policy("watching", WATCHER)
        admin.iam.attach_policy("watcher", "watching")
        watcher = context_for(platform, "watcher")
        BY_NAME["monitoring.create"].invoke(
            watcher, {"name": "watch", "endpoint": "ep", "schedule": "15m"}
        )
        with platform.db.session() as session:
            (schedule,) = SOURCE.schedules(session)
        assert (schedule.kind, schedule.target, schedule.principal) == (
            "monitor",
            "watch",
            "watcher",
        )
        assert schedule.every == timedelta(minutes=15)
        assert schedule.anchor <= now()

        start = schedule.anchor
        SOURCE.run(platform, Due(schedule, start, start + schedule.every))
        (run,) = admin.monitors.history("watch")
        assert (run.status, run.trigger, run.principal) == ("succeeded", "schedule", "watcher")
        assert run.window_start == start and run.requests == 0

        deny = {"Effect": "Deny", "Action": "endpoints:ReadCapture", "Resource": "sy:endpoint/ep"}
        admin.iam.put_policy("watching", {"Statement": [*WATCHER["Statement"], deny]})
        later = start + schedule.every
        with pytest.raises(errors.AccessDenied) as raised:
            SOURCE.run(platform, Due(schedule, later, later + schedule.every))
        assert "watcher" in raised.value.message
        refused, succeeded = admin.monitors.history("watch")
        assert (refused.status, refused.trigger, refused.requests) == ("refused", "schedule", 0)
        assert "endpoints:ReadCapture" in refused.message and "watcher" in refused.message
        assert succeeded.id == run.id
        assert admin.monitors.get("watch").last_run == refused


def test_a_monitor_is_no_way_into_another_endpoint(tmp_path: Path) -> None:
    """Mallory may do anything with monitors, and read her own endpoint only."""
    with embedded(tmp_path) as platform, Client(settings=platform.settings) as admin:
        register(platform, ingest_training(platform))
        for endpoint in ("hers", "secret"):
            admin.endpoints.create(endpoint, model="churn@1", capture=CAPTURE)
        admin.monitors.create("on-secret", endpoint="secret")
        admin.iam.create_principal("mallory")
        policy = {
            "Statement": [
                *WATCHER["Statement"],
                {"Effect": "Deny", "Action": "endpoints:*", "Resource": "sy:endpoint/secret"},
            ]
        }
        admin.iam.put_policy("mallory-policy", policy)
        admin.iam.attach_policy("mallory", "mallory-policy")
        mallory = context_for(platform, "mallory")

        BY_NAME["monitoring.create"].invoke(mallory, {"name": "mine", "endpoint": "hers"})
        attempts = [
            ("monitoring.create", {"name": "sneaky", "endpoint": "secret"}),
            ("monitoring.run", {"name": "on-secret"}),
            ("monitoring.get", {"name": "on-secret"}),
            ("monitoring.history", {"name": "on-secret"}),
            ("monitoring.metrics", {"name": "on-secret"}),
        ]
        for operation, arguments in attempts:
            with pytest.raises(errors.AccessDenied):
                BY_NAME[operation].invoke(mallory, arguments)
        assert [m.name for m in admin.monitors.list()] == ["mine", "on-secret"]
        assert admin.monitors.history("on-secret") == []
