"""The alarms SDK in-process and over HTTP: one suite, both transports."""

from __future__ import annotations

import pytest
from tests.endpoints.endpointkit import MODEL, register_versions

from shipyard.alarms import PipelineAction, RollbackAction, WebhookAction
from shipyard.client import Client
from shipyard.errors import InvalidInput, NotFound
from shipyard.platform import Platform


def test_put_list_show_history_evaluate_delete(client: Client, platform: Platform) -> None:
    register_versions(platform, 1)
    client.endpoints.create("bc", f"{MODEL}@1")
    actions = [
        WebhookAction(url="http://127.0.0.1:9/hook", secret="top-secret"),
        RollbackAction(endpoint="bc"),
        PipelineAction(pipeline="retrain", parameters={"epochs": 3}),
    ]
    info = client.alarms.put(
        "latency", "endpoint:bc", "p99_latency", ">", 250, period="1m",
        evaluation_periods=5, actions=actions,
    )  # fmt: skip
    assert (info.state, info.datapoints_to_alarm, info.min_samples) == ("INSUFFICIENT_DATA", 5, 30)
    assert info.resource == "sy:alarm/latency"
    assert "top-secret" not in info.model_dump_json()
    assert [a["kind"] for a in info.actions] == ["webhook", "rollback", "pipeline"]
    assert info.actions[2]["parameters"] == {"epochs": 3}
    assert [a.name for a in client.alarms.list(state="INSUFFICIENT_DATA")] == ["latency"]
    assert client.alarms.list(state="ALARM") == []
    assert client.alarms.get("latency").period_seconds == 60
    assert client.alarms.evaluate("latency").state == "INSUFFICIENT_DATA"  # no traffic
    assert [e.kind for e in client.alarms.history("latency")] == ["created"]
    replaced = client.alarms.put("latency", "endpoint:bc", "p99_latency", ">", 500, period="1m")
    assert (replaced.threshold, replaced.actions) == (500, [])
    assert [e.kind for e in client.alarms.history("latency")] == ["updated", "created"]
    client.alarms.delete("latency")
    with pytest.raises(NotFound):
        client.alarms.get("latency")


def test_a_bad_action_names_its_field(client: Client, platform: Platform) -> None:
    register_versions(platform, 1)
    client.endpoints.create("bc", f"{MODEL}@1")
    with pytest.raises(InvalidInput) as refused:
        client.alarms.put(
            "x", "endpoint:bc", "error_rate", ">", 0.1,
            actions=[{"kind": "webhook", "url": "ftp://127.0.0.1/x"}],
        )  # fmt: skip
    assert refused.value.field == "actions.0.url"
    with pytest.raises(InvalidInput) as unknown:
        client.alarms.put("x", "endpoint:bc", "error_rate", ">", 0.1, actions=[{"kind": "email"}])
    assert (unknown.value.field or "").startswith("actions.0")
