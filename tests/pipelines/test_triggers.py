"""Runs without a request: a schedule's window, a new dataset version, an alarm's
``start_run``; each authorized as its principal, refused when that principal lost a right."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.pipelines.conftest import wait_run

from shipyard import datasets, pipelines, security
from shipyard.clock import utcnow
from shipyard.errors import AccessDenied
from shipyard.pipelines._scheduled import SOURCE
from shipyard.platform import Platform
from shipyard.scheduling import Due
from shipyard.security import ADMIN, RequestContext, context_for

WATCHER = {
    "name": "watcher",
    "schedule": "1h",
    "parameters": {"data": "d"},
    "triggers": [{"dataset": "d", "parameter": "data"}],
    "steps": [{"name": "read", "kind": "ingest", "with": {"from": "${params.data}"}}],
}


def _due(platform: Platform, target: str) -> Due:
    with platform.db.session() as session:
        schedule = next(s for s in SOURCE.schedules(session) if s.target == target)
    now = utcnow()
    return Due(schedule, now - schedule.every, now)


def test_schedule_and_new_dataset_versions_start_runs(admin: RequestContext) -> None:
    datasets.ingest(admin, "d", b"a\n1\n", "d.csv")
    pipelines.create_pipeline(admin, WATCHER)
    platform = admin.platform
    with platform.db.session() as session:
        schedules = {s.target: s for s in SOURCE.schedules(session)}
    assert schedules["watcher"].every == timedelta(hours=1)
    assert schedules["watcher"].principal == ADMIN
    SOURCE.run(platform, _due(platform, "watcher#datasets"))
    assert pipelines.list_pipeline_runs(admin, "watcher").items == []  # d@1 was there before
    SOURCE.run(platform, _due(platform, "watcher"))
    [scheduled] = pipelines.list_pipeline_runs(admin, "watcher").items
    assert scheduled.trigger == "schedule"
    datasets.ingest(admin, "d", b"a\n1\n2\n", "d.csv")
    SOURCE.run(platform, _due(platform, "watcher#datasets"))
    SOURCE.run(platform, _due(platform, "watcher#datasets"))  # nothing new: no second run
    runs = pipelines.list_pipeline_runs(admin, "watcher").items
    assert [r.trigger for r in runs] == ["dataset:d@2", "schedule"]
    done = wait_run(admin, runs[0].id)
    assert done.status == "succeeded", done.message
    assert done.parameters["data"] == "d@2" and done.step("read").outputs["dataset"] == "d@2"


def _user(platform: Platform, name: str, actions: list[str]) -> RequestContext:
    admin = context_for(platform, ADMIN)
    security.create_principal(admin, name)
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": ["*"]}],
    }
    security.put_policy(admin, name, document)
    security.attach_policy(admin, name, name)
    return context_for(platform, name)


DEPLOYER = {
    "name": "shipper",
    "steps": [
        {"name": "read", "kind": "ingest", "with": {"from": "d"}},
        {
            "name": "ship",
            "kind": "deploy",
            "with": {"endpoint": "prod", "model": "m@1", "strategy": "all-at-once"},
        },
    ],
}


def test_a_pipeline_cannot_deploy_for_someone_who_may_not(admin: RequestContext) -> None:
    datasets.ingest(admin, "d", b"a\n1\n", "d.csv")
    mallory = _user(
        admin.platform,
        "mallory",
        ["pipelines:*", "datasets:ReadData", "registry:GetModelVersion"],
    )
    with pytest.raises(AccessDenied, match="deploy:CreateDeployment"):
        pipelines.create_pipeline(mallory, DEPLOYER)
    pipelines.create_pipeline(admin, DEPLOYER)  # someone who may defines it ...
    with pytest.raises(AccessDenied, match="deploy:CreateDeployment"):
        pipelines.start_pipeline_run(mallory, "shipper")  # ... mallory still cannot run it
    assert pipelines.list_pipeline_runs(admin, "shipper").items == []


def test_an_alarm_run_acts_as_its_principal_and_is_refused_once_it_lost_a_right(
    admin: RequestContext,
) -> None:
    datasets.ingest(admin, "d", b"a\n1\n", "d.csv")
    ops = _user(admin.platform, "ops", ["pipelines:*", "datasets:ReadData"])
    document = {"name": "reader", "steps": WATCHER["steps"], "parameters": {"data": "d"}}
    pipelines.create_pipeline(ops, document)
    run = pipelines.start_run(admin.platform, "ops", "reader", {}, "alarm:drift")
    assert run.trigger == "alarm:drift" and run.created_by == "ops"
    assert wait_run(admin, run.id).status == "succeeded"
    security.detach_policy(admin, "ops", "ops")
    with pytest.raises(AccessDenied, match="ops is not allowed to pipelines:StartPipelineRun"):
        pipelines.start_run(admin.platform, "ops", "reader", {}, "alarm:drift")
    assert len(pipelines.list_pipeline_runs(admin, "reader").items) == 1
