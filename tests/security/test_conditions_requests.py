"""Conditions on real requests: the client's address and scheme over HTTP, the keys an
operation adds (a job's limits, an endpoint's exposure), and the simulator with context."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shipyard.client import Client
from shipyard.endpoints import create_endpoint
from shipyard.errors import AccessDenied, InvalidInput, NotFound
from shipyard.jobs import create_training_job
from shipyard.platform import Platform
from shipyard.security import (
    CachedKeyAuthorizer,
    attach_policy,
    context_for,
    create_api_key,
    create_principal,
    put_policy,
)


def _principal_with(platform: Platform, name: str, document: dict[str, Any]) -> None:
    admin = context_for(platform, "admin")
    create_principal(admin, name)
    put_policy(admin, f"{name}-policy", document)
    attach_policy(admin, name, f"{name}-policy")


def test_source_ip_and_transport_come_from_the_http_request(
    platform: Platform, api_server: Any
) -> None:
    office_only = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "datasets:ListDatasets",
                "Resource": "*",
                "Condition": {
                    "IpAddress": {"sy:SourceIp": "10.0.0.0/8"},
                    "Bool": {"sy:SecureTransport": "false"},
                },
            }
        ]
    }
    _principal_with(platform, "analyst", office_only)
    token = create_api_key(context_for(platform, "admin"), "analyst").token
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{api_server.url}/api/v1/datasets"

    assert httpx.get(url, headers=headers).status_code == 403  # 127.0.0.1 is not 10/8
    office_only["Statement"][0]["Condition"]["IpAddress"]["sy:SourceIp"] = [
        "10.0.0.0/8",
        "::1",
        "127.0.0.0/8",
    ]
    put_policy(context_for(platform, "admin"), "analyst-policy", office_only)
    assert httpx.get(url, headers=headers).status_code == 200
    # In process there is no client address: the Allow does not apply.
    with pytest.raises(AccessDenied):
        context_for(platform, "analyst").authorize("datasets:ListDatasets", "sy:dataset")
    # The data plane's cached keys see no address either, and keep no memo of a decision.
    authorizer = CachedKeyAuthorizer(platform, refresh_seconds=0)
    with pytest.raises(AccessDenied):
        authorizer.authorize(f"Bearer {token}", "datasets:ListDatasets", "sy:dataset")


def test_operations_add_their_own_condition_keys(platform: Platform) -> None:
    long_jobs = {
        "Effect": "Deny",
        "Action": "training:CreateTrainingJob",
        "Resource": "*",
        "Condition": {"NumericGreaterThanIfExists": {"sy:MaxRuntime": 3600}},
    }
    production = {
        "Effect": "Deny",
        "Action": "endpoints:CreateEndpoint",
        "Resource": "*",
        "Condition": {"Bool": {"sy:EndpointProduction": "true"}},
    }
    everything = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    _principal_with(platform, "trainer", {"Statement": [everything, long_jobs, production]})
    ctx = context_for(platform, "trainer")
    spec = {
        "dataset": "missing@1",
        "target": "y",
        "task": "classification",
        "estimator": "sklearn.linear_model.LogisticRegression",
        "max_runtime": 7200,
    }
    with pytest.raises(AccessDenied):
        create_training_job(ctx, spec)
    with pytest.raises(NotFound):  # allowed: it goes on to find the dataset is missing
        create_training_job(ctx, spec | {"max_runtime": 60})
    with pytest.raises(AccessDenied):
        create_endpoint(ctx, "ep", model="missing@1", production=True)
    with pytest.raises(NotFound):
        create_endpoint(ctx, "ep", model="missing@1")


def test_the_simulator_takes_context_and_names_the_unmet_condition(client: Client) -> None:
    client.iam.create_principal("sim-user")
    client.iam.put_policy(
        "sim-office",
        {
            "Statement": [
                {
                    "Sid": "FromTheOffice",
                    "Effect": "Allow",
                    "Action": "datasets:*",
                    "Resource": "*",
                    "Condition": {"IpAddress": {"sy:SourceIp": "10.0.0.0/8"}},
                }
            ]
        },
    )
    client.iam.attach_policy("sim-user", "sim-office")
    action, target = "datasets:ReadData", "sy:dataset/churn/1"

    inside = client.iam.simulate("sim-user", action, target, {"sy:SourceIp": "10.1.2.3"})
    assert inside.decision == "allow"
    assert inside.deciding is not None and inside.deciding.sid == "FromTheOffice"
    assert inside.context == {"sy:SourceIp": "10.1.2.3"}

    outside = client.iam.simulate("sim-user", action, target, {"sy:SourceIp": "192.0.2.1"})
    assert outside.decision == "default_deny" and outside.deciding is None
    assert [(u.policy, u.index, u.sid) for u in outside.unmet] == [
        ("sim-office", 0, "FromTheOffice")
    ]
    assert outside.unmet[0].condition == "IpAddress sy:SourceIp ['10.0.0.0/8']"

    with pytest.raises(InvalidInput) as bad:
        client.iam.simulate("sim-user", action, target, {"sy:SorceIp": "10.1.2.3"})
    assert bad.value.field == "context.sy:SorceIp"
