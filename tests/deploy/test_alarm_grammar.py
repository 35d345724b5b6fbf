"""The rollback alarm language: parsing, units, evaluation, and errors that name the bad token."""

from __future__ import annotations

import pytest

from shipyard.deploy import parse_alarm
from shipyard.errors import InvalidInput

HEALTHY = {
    "requests": 500.0,
    "error_rate": 0.002,
    "p50_latency": 3.0,
    "p95_latency": 9.0,
    "p99_latency": 14.0,
}


def test_thresholds_are_read_in_canonical_units() -> None:
    alarm = parse_alarm("error_rate>1% or p99_latency>=50ms or p95_latency > 0.2s or p50_latency<7")
    assert alarm.root is not None
    conditions = alarm.root.parts  # type: ignore[union-attr]
    assert [(c.metric, c.op, c.threshold) for c in conditions] == [
        ("error_rate", ">", 0.01),
        ("p99_latency", ">=", 50.0),
        ("p95_latency", ">", 200.0),
        ("p50_latency", "<", 7.0),
    ]
    assert parse_alarm("error_rate > 0.05").tripped({"error_rate": 0.06})[0].threshold == 0.05


def test_or_and_and_parentheses() -> None:
    alarm = parse_alarm("error_rate>1% or p99_latency>50ms")
    assert alarm.tripped(HEALTHY) == []
    fired = alarm.tripped({**HEALTHY, "p99_latency": 51.0})
    assert [c.metric for c in fired] == ["p99_latency"]
    assert fired[0].describe({**HEALTHY, "p99_latency": 51.0}) == "p99_latency 51ms > 50ms"

    both = parse_alarm("error_rate > 1% AND requests >= 100")
    assert both.tripped({**HEALTHY, "error_rate": 0.02, "requests": 99.0}) == []
    assert len(both.tripped({**HEALTHY, "error_rate": 0.02})) == 2

    grouped = parse_alarm("(p50_latency>5 or error_rate>=2%) and requests>10")
    precedence = parse_alarm("p50_latency>5 or error_rate>=2% and requests>10")
    quiet = {**HEALTHY, "p50_latency": 6.0, "requests": 5.0}
    assert grouped.tripped(quiet) == []
    assert [c.metric for c in precedence.tripped(quiet)] == ["p50_latency"]


def test_no_data_never_trips_and_too_few_requests_waits_for_the_end_of_the_bake() -> None:
    alarm = parse_alarm("error_rate>0% or p99_latency>1ms")
    assert alarm.tripped({"requests": 0.0, "error_rate": None, "p99_latency": None}) == []
    scarce = parse_alarm("requests < 100")
    assert scarce.tripped({"requests": 3.0}) == []
    assert scarce.tripped({"requests": 3.0}, final=True)[0].describe({"requests": 3.0}) == (
        "requests 3 < 100"
    )
    assert parse_alarm("").tripped(HEALTHY, final=True) == []
    assert parse_alarm("   ").root is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("error_rat>1%", "found 'error_rat' at position 1"),
        ("error_rate>>1%", "expected a number after error_rate >, found '>' at position 12"),
        ("error_rate=1%", "unexpected '=1%' at position 11"),
        ("error_rate>1ms", "'1ms' at position 12: error_rate takes % or a fraction"),
        ("error_rate>5", "'5' at position 12: an error rate is at most 100%"),
        ("p99_latency>5%", "'5%' at position 13: p99_latency takes ms or s"),
        ("requests>5s", "'5s' at position 10: requests is a count"),
        ("p99_latency>50msx", "unexpected '50msx' at position 13"),
        ("error_rate>1% or", "found the end"),
        ("error_rate>1% p99_latency>3", "expected 'and', 'or' or the end, found 'p99_latency'"),
        ("(error_rate>1%", "expected ')', found the end"),
        ("error_rate>1% & requests>1", "unexpected '&' at position 15"),
        ("error_rate", "expected a comparison (> >= < <=) after error_rate, found the end"),
    ],
)
def test_errors_name_the_bad_token(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_alarm(text)
    assert caught.value.field == "rollback_on"
    assert message in caught.value.message, caught.value.message
