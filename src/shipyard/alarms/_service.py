"""Alarm operations: put (create or replace), describe, list, history, delete.

Putting an alarm declares everything it will read or act on: reading its metric (the
endpoint's metrics or the monitor), and for each action its target (rolling back
deployments of that endpoint, starting runs of that pipeline). All are authorized at
put, and again as the creator whenever the alarm evaluates or acts.
"""

from __future__ import annotations

import importlib
import math
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from shipyard.alarms._actions import check_webhook_url
from shipyard.alarms._evaluate import SETTLE_SECONDS, find_alarm, record
from shipyard.alarms._metrics import SOURCES, parse_source
from shipyard.alarms._rules import COMPARISONS, TREAT_MISSING
from shipyard.clock import utcnow
from shipyard.errors import InvalidInput, NotFound
from shipyard.names import check_name, resource
from shipyard.schemas.alarms import (
    AlarmAction,
    AlarmHistoryEntry,
    AlarmInfo,
    PipelineAction,
    RollbackAction,
    State,
    WebhookAction,
)
from shipyard.schemas.paging import DEFAULT_LIMIT, Page
from shipyard.security import Access, RequestContext, ResourceName, operation
from shipyard.security._sealing import seal
from shipyard.store.metadata import Keyset
from shipyard.store.metadata import alarm_tables as at

MIN_PERIOD_SECONDS = 10.0
"""An endpoint's stats windows are 10 s; a shorter period would read partial windows."""
DEFAULT_MIN_SAMPLES = 30
"""Default samples per datapoint for an endpoint's rates and latencies (requests)."""


READ_ACTIONS = {"endpoint": "endpoints:ReadMetrics", "monitor": "monitoring:DescribeMonitor"}
"""What reading an alarm's metric needs, on the endpoint or monitor it names."""
_ACTIONS: TypeAdapter[list[AlarmAction]] = TypeAdapter(list[AlarmAction])


def read_access(source: str) -> tuple[str, str]:
    kind, name = parse_source(source)
    return READ_ACTIONS[kind], resource(kind, name)


def _alarm(name: str) -> str:
    return resource("alarm", name)


def _uses(
    session: Session | None, source: str, actions: list[AlarmAction] | None = None
) -> list[Access]:
    """Reading the metric, and each action's target with the action it needs; a pipeline
    action also needs every access of the pipeline's steps, as starting it by hand does
    (checked again when the alarm fires, as its creator)."""
    action, target = read_access(source)
    found = [Access(action, ResourceName.of(target))]
    for item in actions or []:
        if isinstance(item, RollbackAction):
            check_name(item.endpoint, field="actions.endpoint")
            where = ResourceName.of(resource("endpoint", item.endpoint))
            found.append(Access("deploy:RollbackDeployment", where))
        elif isinstance(item, PipelineAction):
            check_name(item.pipeline, field="actions.pipeline")
            where = ResourceName.of(resource("pipeline", item.pipeline))
            found.append(Access("pipelines:StartPipelineRun", where))
            if session is not None:
                found.extend(_pipeline_accesses(session, item.pipeline, item.parameters))
    return found


def _pipeline_accesses(session: Session, pipeline: str, parameters: dict[str, Any]) -> list[Access]:
    """The steps' accesses of ``pipeline`` run with ``parameters`` (none where pipelines are
    not installed or the pipeline does not exist yet: firing checks them)."""
    try:
        run_accesses = importlib.import_module("shipyard.pipelines").run_accesses
    except (ImportError, AttributeError):
        return []
    return cast(list[Access], run_accesses(session, pipeline, parameters))


def _stored_uses(session: Session, name: str) -> list[Access]:
    row = find_alarm(session, name)
    return [] if row is None else _uses(None, row.source)


def recheck(ctx: RequestContext, name: str) -> None:
    """Authorize, as ``ctx``, everything putting the alarm as stored needed (unattended runs
    act as the creator: one who has lost a right since is refused)."""
    with ctx.platform.db.session() as session:
        row = find_alarm(session, name)
        if row is None:
            raise NotFound(f"alarm {name!r} does not exist", field="name")
        arguments = {
            "name": name,
            "source": row.source,
            "actions": _ACTIONS.validate_python(row.actions),
        }
    put_alarm.__shipyard_operation__.authorize(ctx, arguments)  # type: ignore[attr-defined]


def info_of(row: at.Alarm) -> AlarmInfo:
    return AlarmInfo(
        name=row.name,
        resource=_alarm(row.name),
        source=row.source,
        metric=row.metric,
        comparison=row.comparison,
        threshold=row.threshold,
        period_seconds=row.period_seconds,
        evaluation_periods=row.evaluation_periods,
        datapoints_to_alarm=row.datapoints_to_alarm,
        min_samples=row.min_samples,
        treat_missing=row.treat_missing,
        actions=[_shown(a) for a in row.actions],
        enabled=row.enabled,
        state=cast(State, row.state),
        state_reason=row.state_reason,
        state_updated_at=row.state_updated_at,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _shown(action: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in action.items() if k != "secret"}
    if action.get("kind") == "webhook":
        shown["signed"] = bool(action.get("secret"))
    return shown


def _stored_actions(ctx: RequestContext, name: str, actions: list[AlarmAction]) -> list[Any]:
    stored = []
    for index, item in enumerate(actions):
        document = item.model_dump()
        if isinstance(item, WebhookAction):
            check_webhook_url(ctx.platform.settings, item.url, f"actions.{index}.url")
            if item.secret:
                document["secret"] = seal(ctx.platform.settings, item.secret, name)
        stored.append(document)
    return stored


@operation(
    "alarms:PutAlarm",
    lambda name: _alarm(name),
    uses=lambda session, source, actions: _uses(session, source, actions),
    mutating=True,
)
def put_alarm(
    ctx: RequestContext,
    name: str,
    source: str,
    metric: str,
    comparison: str,
    threshold: float,
    period: float | str = "5m",
    evaluation_periods: int = 1,
    datapoints_to_alarm: int | None = None,
    min_samples: int | None = None,
    treat_missing: str = "missing",
    actions: list[AlarmAction] | None = None,
    enabled: bool = True,
) -> AlarmInfo:
    """Create or replace an alarm on ``monitor:<name>`` or ``endpoint:<name>``'s metric.

    It goes to ALARM when ``datapoints_to_alarm`` (default: all) of the last
    ``evaluation_periods`` datapoints breach; a datapoint under ``min_samples`` samples
    (default 30 requests for an endpoint's rates and latencies, else 1) is missing.
    """
    from shipyard.schemas.durations import parse_duration

    check_name(name)
    kind, target = parse_source(source)
    metric = SOURCES[kind].check(metric)
    if comparison not in COMPARISONS:
        raise InvalidInput(f"must be one of {', '.join(COMPARISONS)}", field="comparison")
    if not math.isfinite(threshold):
        raise InvalidInput("must be a finite number", field="threshold")
    seconds = parse_duration(period, field="period")
    if seconds < MIN_PERIOD_SECONDS:
        raise InvalidInput(f"must be at least {MIN_PERIOD_SECONDS:g} s", field="period")
    if not 1 <= evaluation_periods <= 100:
        raise InvalidInput("must be from 1 to 100", field="evaluation_periods")
    m = evaluation_periods if datapoints_to_alarm is None else datapoints_to_alarm
    if not 1 <= m <= evaluation_periods:
        raise InvalidInput(
            f"must be from 1 to evaluation_periods ({evaluation_periods})",
            field="datapoints_to_alarm",
        )
    if min_samples is None:
        counts = metric.partition("@")[0] in ("requests", "errors")
        min_samples = DEFAULT_MIN_SAMPLES if kind == "endpoint" and not counts else 1
    if not 1 <= min_samples <= 10**9:
        raise InvalidInput("must be from 1 to 1e9", field="min_samples")
    if treat_missing not in TREAT_MISSING:
        raise InvalidInput(f"must be one of {', '.join(TREAT_MISSING)}", field="treat_missing")
    if kind == "endpoint":
        from shipyard.endpoints import find_endpoint

        with ctx.platform.db.session() as session:
            try:
                find_endpoint(session, target)
            except NotFound as error:
                raise NotFound(error.message, field="source") from None
    stored = _stored_actions(ctx, name, actions or [])
    now = utcnow()
    boundary = now.timestamp() // seconds * seconds
    anchor = datetime.fromtimestamp(boundary + SETTLE_SECONDS, UTC)
    fields = {
        "source": source,
        "metric": metric,
        "comparison": comparison,
        "threshold": threshold,
        "period_seconds": seconds,
        "evaluation_periods": evaluation_periods,
        "datapoints_to_alarm": m,
        "min_samples": min_samples,
        "treat_missing": treat_missing,
        "actions": stored,
        "enabled": enabled,
    }
    with ctx.platform.db.session() as session:
        row = find_alarm(session, name)
        if row is None:
            row = at.Alarm(
                name=name,
                anchor=anchor,
                created_by=ctx.principal,
                state="INSUFFICIENT_DATA",
                state_reason="Unchecked: Initial alarm creation",
                state_updated_at=now,
                **fields,
            )
            session.add(row)
            session.flush()
            record(session, row, "created", f"created by {ctx.principal}", new_state=row.state)
        else:
            for key, value in fields.items():
                setattr(row, key, value)
            row.created_by, row.anchor = ctx.principal, anchor
            record(session, row, "updated", f"replaced by {ctx.principal}")
        session.flush()
        return info_of(row)


def _find(session: Session, name: str) -> at.Alarm:
    row = find_alarm(session, name)
    if row is None:
        raise NotFound(f"alarm {name!r} does not exist", field="name")
    return row


@operation("alarms:DescribeAlarms", lambda name: _alarm(name), mutating=False)
def get_alarm(ctx: RequestContext, name: str) -> AlarmInfo:
    """One alarm, its rule, actions and current state with the reason."""
    with ctx.platform.db.session() as session:
        return info_of(_find(session, name))


@operation("alarms:DescribeAlarms", lambda: _alarm("*"), mutating=False)
def list_alarms(
    ctx: RequestContext,
    state: State | None = None,
    source: str | None = None,
    limit: int = DEFAULT_LIMIT,
    page_token: str | None = None,
) -> Page[AlarmInfo]:
    """Alarms by name, optionally in one state or on one source, a page at a time."""
    keyset = Keyset("alarms", at.Alarm.name, limit, page_token, filters=(state, source))
    query = sa.select(at.Alarm)
    if state is not None:
        query = query.where(at.Alarm.state == state)
    if source is not None:
        query = query.where(at.Alarm.source == source)
    with ctx.platform.db.session() as session:
        found, token = keyset.page(session.scalars(keyset.apply(query)).all(), lambda a: a.name)
        items = [info_of(row) for row in found]
    return Page[AlarmInfo](items=items, next_page_token=token)


@operation("alarms:DescribeAlarmHistory", lambda name: _alarm(name), mutating=False)
def alarm_history(ctx: RequestContext, name: str, limit: int = 100) -> list[AlarmHistoryEntry]:
    """State changes and action outcomes, newest first."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("must be between 1 and 1000", field="limit")
    with ctx.platform.db.session() as session:
        row = _find(session, name)
        events = session.scalars(
            sa.select(at.AlarmEvent)
            .where(at.AlarmEvent.alarm_id == row.id)
            .order_by(at.AlarmEvent.id.desc())
            .limit(limit)
        )
        return [
            AlarmHistoryEntry(
                time=e.time,
                kind=e.kind,
                old_state=e.old_state,
                new_state=e.new_state,
                reason=e.reason,
                detail=e.detail,
            )
            for e in events
        ]


@operation("alarms:DeleteAlarm", lambda name: _alarm(name), mutating=True)
def delete_alarm(ctx: RequestContext, name: str) -> AlarmInfo:
    """Delete an alarm and its history; its scheduled evaluations stop."""
    with ctx.platform.db.session() as session:
        row = _find(session, name)
        info = info_of(row)
        session.delete(row)
        return info


@operation("alarms:EvaluateAlarm", lambda name: _alarm(name), uses=_stored_uses, mutating=True)
def evaluate_alarm(ctx: RequestContext, name: str) -> AlarmInfo:
    """Evaluate now, on the periods ending at the last period boundary (acts on a change)."""
    from shipyard.alarms._evaluate import evaluate

    with ctx.platform.db.session() as session:
        row = _find(session, name)
        seconds = row.period_seconds
    end = datetime.fromtimestamp(utcnow().timestamp() // seconds * seconds, UTC)
    evaluate(ctx.platform, name, end)
    with ctx.platform.db.session() as session:
        return info_of(_find(session, name))
