"""The SDK's reads behind the web console, on both transports: a metric chart reduced on
the server, the policy simulator, an endpoint's traffic."""

from __future__ import annotations

import pytest

from shipyard.client import Client
from shipyard.errors import NotFound


def test_the_sdk_reads_charts_traffic_and_simulations_on_both_transports(client: Client) -> None:
    with client.tracking.start_run("charts") as run:
        for step in range(1000):
            run.log_metric("loss", 1000.0 - step, step=step)
    chart = client.tracking.metric_chart(run.id, "loss", max_points=10)
    assert (chart.total_points, len(chart.mean), sum(chart.count)) == (1000, 10, 1000)
    assert (chart.max[0], chart.min[-1]) == (1000.0, 1.0)

    client.iam.create_principal("sim-user")
    client.iam.put_policy(
        "sim-read", {"Statement": [{"Effect": "Allow", "Action": "datasets:Get*", "Resource": "*"}]}
    )
    client.iam.attach_policy("sim-user", "sim-read")
    allowed = client.iam.simulate("sim-user", "datasets:GetDataset", "sy:dataset/bc")
    assert allowed.decision == "allow" and allowed.deciding is not None
    assert allowed.deciding.policy == "sim-read"
    refused = client.iam.simulate("sim-user", "datasets:Ingest", "sy:dataset/bc")
    assert (refused.decision, refused.deciding) == ("default_deny", None)

    with pytest.raises(NotFound):
        client.endpoints.traffic("no-such-endpoint")
