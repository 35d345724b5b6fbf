"""Monitor operations: create, describe, list, delete, run one window, history, reports."""

from __future__ import annotations

from datetime import datetime

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.endpoints import find_endpoint, variants_of
from shipyard.errors import Conflict, InvalidInput, NotFound
from shipyard.flavors import ModelSignature
from shipyard.monitoring._access import find_monitor, monitor_reads, monitor_resource, reads
from shipyard.monitoring._baseline import TREE_FLAVORS, baseline_version, dataset_ref
from shipyard.monitoring._metrics import prometheus_text
from shipyard.monitoring._plan import plan_of
from shipyard.monitoring._records import run_info
from shipyard.monitoring._run import run_window
from shipyard.monitoring._schedule import anchor_for, check_window, last_window, parse_schedule
from shipyard.names import check_name, resource
from shipyard.platform import Platform
from shipyard.schemas.monitoring import DEFAULT_KINDS, KINDS, MonitorInfo, MonitorRunInfo
from shipyard.schemas.paging import DEFAULT_LIMIT, Page
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import Keyset
from shipyard.store.metadata import endpoint_tables as et
from shipyard.store.metadata import monitor_tables as mt
from shipyard.store.metadata import tables as t

MAX_HISTORY = 1000


def _check_kinds(kinds: list[str] | None) -> list[str]:
    chosen = list(DEFAULT_KINDS) if kinds is None else kinds
    unknown = [k for k in chosen if k not in KINDS]
    if unknown or not chosen or len(set(chosen)) != len(chosen):
        raise InvalidInput(
            f"give distinct kinds from {', '.join(KINDS)}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
            field="kinds",
        )
    return [k for k in KINDS if k in chosen]


_NEEDS_INPUT = {"data", "attribution"}
_NEEDS_OUTPUT = {"prediction", "quality", "estimated"}


def _check_capture(endpoint: str, capture: dict[str, object], kinds: list[str]) -> None:
    """A monitor reads captured requests: the endpoint must capture the sides it checks."""
    hint = f"enable it: shipyard endpoints configure {endpoint} --capture-percent 100"
    if not capture.get("enabled") or not capture.get("sampling_percent"):
        message = f"endpoint {endpoint!r} does not capture requests; {hint}"
        raise InvalidInput(message, field="endpoint")
    mode = capture.get("mode", "both")
    lacking = sorted((_NEEDS_INPUT if mode == "output" else set()) & set(kinds)) + sorted(
        (_NEEDS_OUTPUT if mode == "input" else set()) & set(kinds)
    )
    if lacking:
        raise InvalidInput(
            f"endpoint {endpoint!r} captures only its {mode}s, which {', '.join(lacking)} "
            f"cannot be checked on; {hint} --capture-mode both",
            field="endpoint",
        )


def _check_variants(
    session: Session, endpoint: str, baseline: str | None, kinds: list[str]
) -> None:
    """Every variant has a usable baseline holding its inputs, and supports the kinds."""
    row = find_endpoint(session, endpoint)
    state = session.get(et.EndpointState, row.id)
    _check_capture(endpoint, (state.capture if state is not None else None) or {}, kinds)
    for variant in variants_of(session, row.id):
        version = session.get_one(t.ModelVersion, variant.model_version_id)
        signature = ModelSignature.model_validate(version.signature)
        data = baseline_version(session, baseline, version)
        columns = {c["name"] for c in data.schema}
        lacking = [n for n in signature.input_names if n not in columns]
        if lacking:
            raise InvalidInput(
                f"baseline {dataset_ref(session, data)} lacks the inputs of variant "
                f"{variant.name!r}: {', '.join(lacking)}",
                field="baseline",
            )
        if "attribution" in kinds and version.flavor not in TREE_FLAVORS:
            raise InvalidInput(
                f"attribution needs tree SHAP values (lightgbm or xgboost); variant "
                f"{variant.name!r} serves a {version.flavor} model",
                field="kinds",
            )
        if "estimated" in kinds and signature.task != "classification":
            raise InvalidInput(
                f"estimated performance is for classifiers; variant {variant.name!r} serves "
                f"a {signature.task} model",
                field="kinds",
            )


def _info(session: Session, row: mt.Monitor, figures: bool = True) -> MonitorInfo:
    """The monitor and its last run; without ``figures``, that run's summary and message
    (read from the endpoint's capture) are left out."""
    last = session.scalar(
        sa.select(mt.MonitorRun)
        .where(mt.MonitorRun.monitor_id == row.id)
        .order_by(mt.MonitorRun.number.desc())
        .limit(1)
    )
    return MonitorInfo(
        name=row.name,
        endpoint=row.endpoint,
        baseline=row.baseline,
        kinds=list(row.kinds),
        schedule_seconds=row.every_seconds,
        anchor=row.anchor,
        enabled=row.enabled,
        created_by=row.created_by,
        created_at=row.created_at,
        runs=last.number if last else 0,
        last_run=_figures(run_info(last, row.name), figures) if last else None,
    )


def _figures(run: MonitorRunInfo, keep: bool) -> MonitorRunInfo:
    return run if keep else run.model_copy(update={"summary": {}, "message": ""})


@operation(
    "monitoring:CreateMonitor",
    monitor_resource,
    uses=lambda session, endpoint, baseline: reads(session, endpoint, baseline),
    mutating=True,
)
def create_monitor(
    ctx: RequestContext,
    name: str,
    endpoint: str,
    schedule: str = "1h",
    kinds: list[str] | None = None,
    baseline: str | None = None,
) -> MonitorInfo:
    """Check ``endpoint``'s captured traffic every ``schedule`` window against ``baseline``
    (default: each variant's training data): ``kinds`` of data, prediction, quality,
    estimated (CBPE) and attribution (tree SHAP)."""
    check_name(name)
    chosen = _check_kinds(kinds)
    seconds = parse_schedule(schedule)
    with ctx.platform.db.session() as session:
        if session.scalar(sa.select(mt.Monitor.id).where(mt.Monitor.name == name)) is not None:
            raise Conflict(f"monitor {name!r} exists", field="name")
        _check_variants(session, endpoint, baseline, chosen)
        now = utcnow()
        row = mt.Monitor(
            name=name,
            endpoint=endpoint,
            baseline=baseline,
            kinds=chosen,
            every_seconds=seconds,
            anchor=anchor_for(seconds, now),
            enabled=True,
            created_by=ctx.principal,
            created_at=now,
        )
        session.add(row)
        session.flush()
        return _info(session, row)


@operation("monitoring:DescribeMonitor", monitor_resource, uses=monitor_reads, mutating=False)
def get_monitor(ctx: RequestContext, name: str) -> MonitorInfo:
    """The monitor's definition and its last run."""
    with ctx.platform.db.session() as session:
        return _info(session, find_monitor(session, name))


@operation("monitoring:ListMonitors", lambda: resource("monitor"), mutating=False)
def list_monitors(
    ctx: RequestContext,
    endpoint: str | None = None,
    limit: int = DEFAULT_LIMIT,
    page_token: str | None = None,
) -> Page[MonitorInfo]:
    """Every monitor (of ``endpoint`` when given), by name, with its last run's status but
    not its figures: those are read from the endpoint's capture and model, which ``get``
    authorizes and a listing does not."""
    keyset = Keyset("monitors", mt.Monitor.name, limit, page_token, filters=(endpoint,))
    query = sa.select(mt.Monitor)
    if endpoint is not None:
        query = query.where(mt.Monitor.endpoint == endpoint)
    with ctx.platform.db.session() as session:
        rows = session.scalars(keyset.apply(query)).all()
        found, token = keyset.page(rows, lambda m: m.name)
        items = [_info(session, row, figures=False) for row in found]
    return Page[MonitorInfo](items=items, next_page_token=token)


@operation("monitoring:DeleteMonitor", monitor_resource, mutating=True)
def delete_monitor(ctx: RequestContext, name: str) -> MonitorInfo:
    """Delete the monitor, its runs and its metric series (the blobs stay, by digest)."""
    with ctx.platform.db.session() as session:
        row = find_monitor(session, name)
        info = _info(session, row)
        session.execute(sa.delete(mt.MonitorMetric).where(mt.MonitorMetric.monitor_id == row.id))
        session.execute(sa.delete(mt.MonitorRun).where(mt.MonitorRun.monitor_id == row.id))
        session.delete(row)
    return info


def execute(
    platform: Platform,
    principal: str,
    name: str,
    window: tuple[datetime, datetime] | None,
    trigger: str,
) -> MonitorRunInfo:
    """Run one window of ``name`` (default: the last whole one) once authorized."""
    with platform.db.session() as session:
        row = find_monitor(session, name)
        plan = plan_of(row)
        seconds, anchor = row.every_seconds, row.anchor
    start, end = window or last_window(seconds, anchor, utcnow())
    return run_window(platform, plan, start, end, principal, trigger)


@operation("monitoring:RunMonitor", monitor_resource, uses=monitor_reads, mutating=True)
def run_monitor(
    ctx: RequestContext,
    name: str,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> MonitorRunInfo:
    """Run one window now (default: the last whole window of the schedule) and store its
    JSON result, HTML report and metric values."""
    window = check_window(window_start, window_end)
    return execute(ctx.platform, ctx.principal, name, window, "manual")


@operation("monitoring:DescribeMonitor", monitor_resource, uses=monitor_reads, mutating=False)
def monitor_history(ctx: RequestContext, name: str, limit: int = 50) -> list[MonitorRunInfo]:
    """The monitor's runs, newest first."""
    if not 1 <= limit <= MAX_HISTORY:
        raise InvalidInput(f"must be from 1 to {MAX_HISTORY}", field="limit")
    with ctx.platform.db.session() as session:
        row = find_monitor(session, name)
        runs = session.scalars(
            sa.select(mt.MonitorRun)
            .where(mt.MonitorRun.monitor_id == row.id)
            .order_by(mt.MonitorRun.number.desc())
            .limit(limit)
        )
        return [run_info(run, name) for run in runs]


def _run_row(session: Session, name: str, run: int | None) -> mt.MonitorRun:
    row = find_monitor(session, name)
    query = sa.select(mt.MonitorRun).where(
        mt.MonitorRun.monitor_id == row.id, mt.MonitorRun.report_digest.is_not(None)
    )
    if run is not None:
        query = query.where(mt.MonitorRun.number == run)
    found = session.scalar(query.order_by(mt.MonitorRun.number.desc()).limit(1))
    if found is None:
        what = f"run {run}" if run is not None else "a successful run"
        raise NotFound(f"monitor {name!r} has no {what} with a report", field="run")
    return found


@operation("monitoring:GetMonitorReport", monitor_resource, uses=monitor_reads, mutating=False)
def get_monitor_report(ctx: RequestContext, name: str, run: int | None = None) -> bytes:
    """A run's self-contained HTML report (default: the latest)."""
    with ctx.platform.db.session() as session:
        digest = _run_row(session, name, run).report_digest
    assert digest is not None
    return ctx.platform.blobs.get_bytes(digest)


@operation("monitoring:GetMonitorReport", monitor_resource, uses=monitor_reads, mutating=False)
def get_monitor_result(ctx: RequestContext, name: str, run: int | None = None) -> dict[str, object]:
    """A run's JSON result: per variant every drift score, quality, estimate, attribution."""
    with ctx.platform.db.session() as session:
        digest = _run_row(session, name, run).result_digest
    assert digest is not None
    document: dict[str, object] = orjson.loads(ctx.platform.blobs.get_bytes(digest))
    return document


@operation("monitoring:DescribeMonitor", monitor_resource, uses=monitor_reads, mutating=False)
def monitor_metrics(ctx: RequestContext, name: str) -> bytes:
    """The latest value of every metric of the monitor, as Prometheus text (for scraping)."""
    with ctx.platform.db.session() as session:
        row = find_monitor(session, name)
        latest = (
            sa.select(mt.MonitorMetric.name, sa.func.max(mt.MonitorMetric.window_end).label("at"))
            .where(mt.MonitorMetric.monitor_id == row.id)
            .group_by(mt.MonitorMetric.name)
            .subquery()
        )
        values = session.execute(
            sa.select(mt.MonitorMetric.name, mt.MonitorMetric.value)
            .join(
                latest,
                sa.and_(
                    latest.c.name == mt.MonitorMetric.name,
                    latest.c.at == mt.MonitorMetric.window_end,
                ),
            )
            .where(mt.MonitorMetric.monitor_id == row.id)
        )
        text = prometheus_text(name, row.endpoint, {n: v for n, v in values})
    return text.encode()
