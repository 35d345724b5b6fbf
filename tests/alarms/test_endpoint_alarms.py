"""Alarms on an endpoint's live metrics, on SQLite and PostgreSQL: states, history, webhooks."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from tests.alarms.alarmkit import Receiver, at, period_start, receiver, sdk, verify
from tests.endpoints.endpointkit import write_stats

from shipyard.alarms import WebhookAction
from shipyard.alarms._evaluate import evaluate
from shipyard.client import Client
from shipyard.config import Settings
from shipyard.errors import InvalidInput, NotFound
from shipyard.platform import Platform
from shipyard.store.metadata import alarm_tables as at_

__all__ = ["receiver", "sdk"]


def _errors_alarm(sdk: Client, **extra: object) -> None:
    sdk.alarms.put(
        "errors",
        "endpoint:bc",
        "error_rate",
        ">",
        0.05,
        period="10s",
        evaluation_periods=3,
        datapoints_to_alarm=2,
        min_samples=20,
        **extra,  # type: ignore[arg-type]
    )


def test_an_alarm_moves_through_its_states_and_keeps_the_history(
    sdk: Client, platform: Platform
) -> None:
    _errors_alarm(sdk)
    assert sdk.alarms.get("errors").state == "INSUFFICIENT_DATA"
    b = period_start()
    write_stats(platform, "bc", "primary", requests=100, errors=10, window_start=b)
    write_stats(platform, "bc", "primary", requests=5, errors=5, window_start=b + 10)  # too few
    write_stats(platform, "bc", "primary", requests=50, errors=1, window_start=b + 20)
    assert evaluate(platform, "errors", at(b + 30)) == "OK"  # 1 of 3 breach; one is missing
    write_stats(platform, "bc", "primary", requests=40, errors=8, window_start=b + 30)
    write_stats(platform, "bc", "primary", requests=50, errors=10, window_start=b + 10, worker="w2")
    assert evaluate(platform, "errors", at(b + 40)) == "ALARM"  # b+10 (now 55 requests), b+30
    info = sdk.alarms.get("errors")
    assert info.state == "ALARM"
    assert info.state_reason.startswith("Threshold Crossed: 2 out of the last 3 datapoints")
    assert evaluate(platform, "errors", at(b + 100)) == "INSUFFICIENT_DATA"
    history = sdk.alarms.history("errors")
    changes = [(e.old_state, e.new_state) for e in history if e.kind == "state"]
    assert changes == [
        ("ALARM", "INSUFFICIENT_DATA"),
        ("OK", "ALARM"),
        ("INSUFFICIENT_DATA", "OK"),
    ]
    assert history[-1].kind == "created"


def test_a_variant_metric_reads_only_that_variant(sdk: Client, platform: Platform) -> None:
    sdk.alarms.put(
        "slow-blue", "endpoint:bc", "p99_latency@blue", ">", 50, period="10s", min_samples=10
    )
    b = period_start()
    write_stats(platform, "bc", "primary", requests=100, latency_ms=200, window_start=b)
    assert evaluate(platform, "slow-blue", at(b + 10)) == "INSUFFICIENT_DATA"
    write_stats(platform, "bc", "blue", requests=100, latency_ms=80, window_start=b)
    assert evaluate(platform, "slow-blue", at(b + 10)) == "ALARM"


def test_bad_input_names_the_field_and_stores_nothing(sdk: Client, platform: Platform) -> None:
    cases = [
        ({"source": "endpoint"}, "source"),
        ({"source": "endpoint:nope"}, "source"),
        ({"metric": "accuracy"}, "metric"),
        ({"comparison": "=="}, "comparison"),
        ({"period": "1s"}, "period"),
        ({"evaluation_periods": 2, "datapoints_to_alarm": 3}, "datapoints_to_alarm"),
        ({"treat_missing": "sometimes"}, "treat_missing"),
    ]
    for change, field in cases:
        arguments = {
            "source": "endpoint:bc",
            "metric": "error_rate",
            "comparison": ">",
            "threshold": 0.1,
            **change,
        }
        with pytest.raises((InvalidInput, NotFound)) as refused:
            sdk.alarms.put("bad", **arguments)  # type: ignore[arg-type]
        assert refused.value.field == field, (change, refused.value)
    with pytest.raises(NotFound):
        sdk.alarms.get("bad")


def test_a_webhook_host_outside_the_allowlist_is_refused_naming_the_field(
    sdk: Client, platform: Platform
) -> None:
    hook = WebhookAction(url="http://198.51.100.7/hook", secret="s3cret")
    with pytest.raises(InvalidInput) as refused:
        _errors_alarm(sdk, actions=[hook])
    assert refused.value.field == "actions.0.url"
    assert "webhook_allowed_hosts" in refused.value.message
    with platform.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(at_.Alarm)) == 0


def test_a_signed_webhook_reaches_a_real_receiver(
    sdk: Client, platform: Platform, receiver: Receiver
) -> None:
    hook = WebhookAction(url=receiver.url, secret="s3cret-signing-key", on=["ALARM", "OK"])
    _errors_alarm(sdk, actions=[hook])
    shown = sdk.alarms.get("errors").actions
    assert shown == [
        {"kind": "webhook", "url": receiver.url, "on": ["ALARM", "OK"], "timeout_seconds": 5.0,
         "signed": True}
    ]  # fmt: skip
    with platform.db.session() as session:
        stored = session.scalar(sa.select(at_.Alarm.actions))
    assert "s3cret-signing-key" not in json.dumps(stored)
    b = period_start()
    for k in range(3):
        write_stats(platform, "bc", "primary", requests=100, errors=30, window_start=b + 10 * k)
    assert evaluate(platform, "errors", at(b + 30)) == "ALARM"
    receiver.wait(1)
    headers, body = receiver.requests[0]
    assert verify("s3cret-signing-key", headers, body)
    assert not verify("another-key", headers, body)
    payload = json.loads(body)
    assert (payload["alarm"], payload["old_state"], payload["new_state"]) == (
        "errors",
        "INSUFFICIENT_DATA",
        "ALARM",
    )
    assert payload["reason"].startswith("Threshold Crossed: 3 out of the last 3 datapoints")
    (sent,) = [e for e in sdk.alarms.history("errors") if e.kind == "action"]
    assert sent.detail["ok"] is True and "answered 204" in sent.reason


def test_a_failing_webhook_is_recorded_and_the_alarm_carries_on(
    sdk: Client, platform: Platform, receiver: Receiver
) -> None:
    receiver.status = 500
    _errors_alarm(sdk, actions=[WebhookAction(url=receiver.url)])
    b = period_start()
    for k in range(3):
        write_stats(platform, "bc", "primary", requests=100, errors=30, window_start=b + 10 * k)
    assert evaluate(platform, "errors", at(b + 30)) == "ALARM"
    (failed,) = [e for e in sdk.alarms.history("errors") if e.kind == "action"]
    assert failed.detail["ok"] is False
    assert failed.reason == f"webhook action failed: webhook to {receiver.url} answered 500"


def test_a_host_dropped_from_the_allowlist_is_refused_at_send(
    sdk: Client, platform: Platform, receiver: Receiver, settings: Settings
) -> None:
    _errors_alarm(sdk, actions=[WebhookAction(url=receiver.url, secret="k")])
    narrower = Platform.open(settings.model_copy(update={"webhook_allowed_hosts": []}))
    try:
        b = period_start()
        for k in range(3):
            write_stats(narrower, "bc", "primary", requests=100, errors=30, window_start=b + 10 * k)
        assert evaluate(narrower, "errors", at(b + 30)) == "ALARM"
    finally:
        narrower.close()
    assert receiver.requests == []
    (refused,) = [e for e in sdk.alarms.history("errors") if e.kind == "action"]
    assert "not in the server's webhook_allowed_hosts" in refused.reason


def test_a_pipeline_action_that_cannot_start_is_recorded(sdk: Client, platform: Platform) -> None:
    _errors_alarm(sdk, actions=[{"kind": "pipeline", "pipeline": "retrain"}])
    b = period_start()
    for k in range(3):
        write_stats(platform, "bc", "primary", requests=100, errors=30, window_start=b + 10 * k)
    assert evaluate(platform, "errors", at(b + 30)) == "ALARM"
    (failed,) = [e for e in sdk.alarms.history("errors") if e.kind == "action"]
    assert failed.detail["ok"] is False
    assert failed.reason.startswith("pipeline action failed: ")


def test_delete_removes_the_alarm_and_its_history(sdk: Client, platform: Platform) -> None:
    _errors_alarm(sdk)
    assert [a.name for a in sdk.alarms.list()] == ["errors"]
    sdk.alarms.delete("errors")
    assert sdk.alarms.list() == []
    with platform.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(at_.AlarmEvent)) == 0
