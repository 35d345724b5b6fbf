"""The deploy step: a guarded rollout (canary, alarm, automatic rollback) followed to its end."""

from __future__ import annotations

from typing import Any

from tests.endpoints.endpointkit import MODEL, register_versions, write_stats
from tests.pipelines.conftest import wait_run

from shipyard import endpoints, pipelines
from shipyard.platform import Platform
from shipyard.security import RequestContext

NEW = f"{MODEL}-v2"


def _shipper(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "parameters": {"version": 2},
        "steps": [
            {
                "name": "ship",
                "kind": "deploy",
                "with": {
                    "endpoint": "bc",
                    "model": f"{MODEL}@${{params.version}}",
                    "strategy": "canary",
                    "bake": "0s",
                    "rollback_on": "error_rate>1%",
                },
            }
        ],
    }


def test_a_healthy_canary_is_followed_to_success(admin: RequestContext, platform: Platform) -> None:
    register_versions(platform, 3)
    endpoints.create_endpoint(admin, "bc", f"{MODEL}@1")
    write_stats(platform, "bc", NEW, requests=10)
    pipelines.create_pipeline(admin, _shipper("ship"))
    done = wait_run(admin, pipelines.start_pipeline_run(admin, "ship").id)
    assert done.status == "succeeded", done.message
    assert done.step("ship").outputs["status"] == "succeeded"
    assert endpoints.get_endpoint(admin, "bc").model_version == 2
    assert pipelines.produced_by(platform, "deployment", done.step("ship").outputs["deployment"])
