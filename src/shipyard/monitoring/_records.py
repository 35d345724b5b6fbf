"""Run rows: a new run numbered after the last, a failed or refused one, and the series so
far that a report charts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from shipyard.clock import utcnow
from shipyard.monitoring._plan import Plan
from shipyard.platform import Platform
from shipyard.schemas.monitoring import MonitorRunInfo
from shipyard.store.metadata import monitor_tables as mt


def new_run(
    session: Any,
    plan: Plan,
    start: datetime,
    end: datetime,
    principal: str,
    trigger: str,
    status: str,
    message: str,
) -> mt.MonitorRun:
    number = session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(mt.MonitorRun.number), 0)).where(
            mt.MonitorRun.monitor_id == plan.monitor_id
        )
    )
    run = mt.MonitorRun(
        id=uuid.uuid4().hex,
        monitor_id=plan.monitor_id,
        number=int(number) + 1,
        window_start=start,
        window_end=end,
        trigger=trigger,
        principal=principal,
        status=status,
        message=message,
        requests=0,
        summary={},
        created_at=utcnow(),
    )
    session.add(run)
    session.flush()
    return run


def record_failure(
    platform: Platform,
    plan: Plan,
    start: datetime,
    end: datetime,
    principal: str,
    trigger: str,
    status: str,
    message: str,
) -> MonitorRunInfo:
    with platform.db.session() as session:
        run = new_run(session, plan, start, end, principal, trigger, status, message)
        return run_info(run, plan.name)


def run_info(run: mt.MonitorRun, monitor: str) -> MonitorRunInfo:
    return MonitorRunInfo(
        id=run.id,
        monitor=monitor,
        number=run.number,
        window_start=run.window_start,
        window_end=run.window_end,
        trigger=run.trigger,
        principal=run.principal,
        status=run.status,
        message=run.message,
        requests=run.requests,
        summary=run.summary,
        created_at=run.created_at,
    )


_SERIES = ("quality.", "estimated.", "drift_share", "attribution_drift", "prediction_drift")


def history(
    session: Any, monitor_id: int, end: datetime
) -> dict[str, list[tuple[datetime, float]]]:
    """Earlier values of the quality, estimate and drift-share series, for the report."""
    rows = session.execute(
        sa.select(mt.MonitorMetric.name, mt.MonitorMetric.window_end, mt.MonitorMetric.value)
        .where(
            mt.MonitorMetric.monitor_id == monitor_id,
            mt.MonitorMetric.window_end < end,
            sa.or_(*(mt.MonitorMetric.name.startswith(p) for p in _SERIES)),
        )
        .order_by(mt.MonitorMetric.window_end)
    )
    series: dict[str, list[tuple[datetime, float]]] = {}
    for name, at, value in rows:
        series.setdefault(name, []).append((at, value))
    return series
