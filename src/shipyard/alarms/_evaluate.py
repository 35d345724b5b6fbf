"""One evaluation of one alarm at the end of a period, as its creator, and its actions."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.alarms._actions import creator_context, roll_back, send_webhook, start_pipeline
from shipyard.alarms._metrics import SOURCES, parse_source
from shipyard.alarms._rules import Rule, TreatMissing, Verdict
from shipyard.clock import utcnow
from shipyard.errors import ShipyardError
from shipyard.names import resource
from shipyard.platform import Platform
from shipyard.schemas.alarms import State
from shipyard.store.metadata import alarm_tables as at

log = logging.getLogger("shipyard.alarms")

SETTLE_SECONDS = 10.0
"""How long after a period ends the scheduler judges it (late stats windows arrive)."""


def rule_of(row: at.Alarm) -> Rule:
    return Rule(
        comparison=cast(Any, row.comparison),
        threshold=row.threshold,
        evaluation_periods=row.evaluation_periods,
        datapoints_to_alarm=row.datapoints_to_alarm,
        min_samples=row.min_samples,
        treat_missing=cast(TreatMissing, row.treat_missing),
    )


def find_alarm(session: Session, name: str, *, lock: bool = False) -> at.Alarm | None:
    query = sa.select(at.Alarm).where(at.Alarm.name == name)
    return session.scalar(query.with_for_update() if lock else query)


def record(session: Session, row: at.Alarm, kind: str, reason: str, **fields: Any) -> None:
    detail = fields.pop("detail", {})
    session.add(at.AlarmEvent(alarm_id=row.id, kind=kind, reason=reason, detail=detail, **fields))


def evaluate(platform: Platform, name: str, end: datetime) -> State | None:
    """Judge the alarm on the N periods ending at ``end``; act on a change of state."""
    with platform.db.session() as session:
        row = find_alarm(session, name)
        if row is None or not row.enabled:
            return None
        principal, source, metric = row.created_by, row.source, row.metric
        period = timedelta(seconds=row.period_seconds)
        periods = [
            (end - (i + 1) * period, end - i * period)
            for i in reversed(range(row.evaluation_periods))
        ]
        rule, current = rule_of(row), cast(State, row.state)
    refused = _refusal(platform, principal, name)
    if refused is not None:
        verdict = Verdict("INSUFFICIENT_DATA", refused, 0, 0)
        points: list[dict[str, Any]] = []
    else:
        kind, target = parse_source(source)
        with platform.db.session() as session:
            found = SOURCES[kind].datapoints(session, target, metric, periods)
        verdict = rule.evaluate(found, current)
        points = [{"end": p.end.isoformat(), "value": p.value, "samples": p.samples} for p in found]
    with platform.db.session() as session:
        row = find_alarm(session, name, lock=True)  # two evaluations never both act
        if row is None:
            return None
        old = cast(State, row.state)
        if verdict.state == old and not (refused and row.state_reason != refused):
            return old
        row.state, row.state_reason, row.state_updated_at = verdict.state, verdict.reason, utcnow()
        detail = {"datapoints": points, "period_end": end.isoformat()}
        record(
            session, row, "state", verdict.reason, old_state=old, new_state=verdict.state,
            detail=detail,
        )  # fmt: skip
        actions = [a for a in row.actions if verdict.state in a.get("on", ["ALARM"])]
        payload = _payload(row, old, verdict, end)
    if verdict.state != old:
        for index, action in enumerate(actions):
            _act(platform, name, principal, index, action, payload)
    return verdict.state


def _refusal(platform: Platform, principal: str, name: str) -> str | None:
    """Why the creator may no longer have this alarm (read its metric, reach its actions'
    targets), or None when it may: the checks made when it was put, made again."""
    from shipyard.alarms._service import recheck

    try:
        recheck(creator_context(platform, principal, name), name)
    except ShipyardError as error:
        return f"Refused: the alarm's creator {principal} may no longer have it: {error.message}"
    return None


def _payload(row: at.Alarm, old: str, verdict: Verdict, end: datetime) -> dict[str, Any]:
    return {
        "alarm": row.name,
        "resource": resource("alarm", row.name),
        "source": row.source,
        "metric": row.metric,
        "comparison": row.comparison,
        "threshold": row.threshold,
        "old_state": old,
        "new_state": verdict.state,
        "reason": verdict.reason,
        "period_end": end.isoformat(),
        "time": utcnow().isoformat(),
    }


def _act(
    platform: Platform,
    name: str,
    principal: str,
    index: int,
    action: dict[str, Any],
    payload: dict[str, Any],
) -> None:
    """Run one action; its outcome, good or bad, goes into the history."""
    kind = action.get("kind", "?")
    try:
        if kind == "webhook":
            outcome = send_webhook(platform, name, action, payload)
        elif kind == "rollback":
            outcome = roll_back(platform, principal, name, action["endpoint"])
        elif kind == "pipeline":
            parameters = action.get("parameters", {})
            outcome = start_pipeline(platform, principal, name, action["pipeline"], parameters)
        else:
            raise ShipyardError(f"unknown action kind {kind!r}")
        ok = True
    except ShipyardError as error:
        outcome, ok = f"{kind} action failed: {error.message}", False
    except Exception as error:
        outcome, ok = f"{kind} action failed: {type(error).__name__}: {error}", False
    if not ok:
        log.warning("alarm %s: %s", name, outcome)
    with platform.db.session() as session:
        row = find_alarm(session, name)
        if row is not None:
            detail = {"action": index, "kind": kind, "ok": ok, "on": payload["new_state"]}
            record(session, row, "action", outcome, detail=detail)
