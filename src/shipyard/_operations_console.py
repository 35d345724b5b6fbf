"""The catalog's entries the web console leans on: charts reduced on the server, live
traffic per variant, and the policy simulator (``operations.py`` holds the whole catalog)."""

from __future__ import annotations

from shipyard._operation import Operation

_V1 = "/api/v1"

CONSOLE_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "tracking.metric_chart",
        "GET",
        f"{_V1}/runs/{{run_id}}/metrics/{{key}}/chart",
        "shipyard.tracking:metric_chart",
    ),
    Operation(
        "endpoints.traffic",
        "GET",
        f"{_V1}/endpoints/{{name}}/traffic",
        "shipyard.endpoints:endpoint_traffic",
    ),
    Operation(
        "iam.simulate", "POST", f"{_V1}/policy-simulations", "shipyard.security:simulate_policy"
    ),
)
