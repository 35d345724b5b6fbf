"""One window of one monitor: prepare each variant's baseline, read the window a capture
file at a time, compute the result, and store it (JSON, HTML report, metric values)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from shipyard.clock import utcnow
from shipyard.endpoints import find_endpoint, variants_of
from shipyard.errors import ShipyardError
from shipyard.flavors import ModelSignature
from shipyard.monitoring._baseline import (
    baseline_version,
    dataset_ref,
    features_of,
    load_baseline,
    loadable,
)
from shipyard.monitoring._metrics import result_metrics
from shipyard.monitoring._models import MonitorResult, MonitorRunInfo, QualityResult
from shipyard.monitoring._quality import (
    labelled_rows,
    labels_since,
    pairs_by_variant,
    quality,
    window_quality,
)
from shipyard.monitoring._report import render_report
from shipyard.monitoring._variant import Subject, VariantWindow
from shipyard.monitoring._window import flatten, read_window
from shipyard.monitoring.drift import describe_methods
from shipyard.platform import Platform
from shipyard.registry import load_version_predictor
from shipyard.store.metadata import monitor_tables as mt
from shipyard.store.metadata import tables as t

LATE_LABEL_RUNS = 24
"""How many earlier windows a run refreshes when labels for them arrived since."""


@dataclass(frozen=True)
class Plan:
    monitor_id: int
    name: str
    endpoint: str
    baseline: str | None
    kinds: list[str]


def plan_of(row: mt.Monitor) -> Plan:
    return Plan(row.id, row.name, row.endpoint, row.baseline, list(row.kinds))


def subjects(platform: Platform, plan: Plan) -> tuple[dict[str, Subject], str | None]:
    """Each variant's subject, and the main production variant (exported unsuffixed too)."""
    found: dict[str, Subject] = {}
    with platform.db.session() as session:
        endpoint = find_endpoint(session, plan.endpoint)
        variants = variants_of(session, endpoint.id)
        main = max(
            (v for v in variants if v.role == "production"), key=lambda v: v.weight, default=None
        )
        rows = []
        for variant in variants:
            version = session.get_one(t.ModelVersion, variant.model_version_id)
            model = session.get_one(t.Model, version.model_id)
            data = baseline_version(session, plan.baseline, version)
            rows.append(
                (
                    variant.name,
                    f"{model.name}@{version.version}",
                    version,
                    data,
                    dataset_ref(session, data),
                )
            )
        session.expunge_all()
    needs_model = {"prediction", "attribution"} & set(plan.kinds)
    for name, model_ref, version, data, ref in rows:
        signature = ModelSignature.model_validate(version.signature)
        predictor = None
        notes = []
        if needs_model and loadable(version.flavor):
            predictor = load_version_predictor(platform, version)
        elif needs_model:
            notes.append(f"{version.flavor} models run no code in the control plane")
        baseline = load_baseline(platform, ref, data, signature, predictor)
        if baseline.missing:
            notes.append(f"baseline {ref} lacks inputs: {', '.join(baseline.missing)}")
        found[name] = Subject(
            name,
            model_ref,
            version.flavor,
            signature,
            features_of(signature),
            baseline,
            predictor,
            notes,
        )
    return found, main.name if main else None


def compute(platform: Platform, plan: Plan, start: datetime, end: datetime) -> MonitorResult:
    """The result of ``[start, end)``: per variant drift, quality, estimates, attributions."""
    found, main = subjects(platform, plan)
    windows = {name: VariantWindow(subject) for name, subject in found.items()}
    labels = labels_since(platform, plan.endpoint, start) if "quality" in plan.kinds else {}
    labelled: list[pa.Table] = []
    for table in read_window(platform, plan.endpoint, start, end):
        labelled.append(labelled_rows(table, labels))
        for variant in pc.unique(table["variant"]).to_pylist():
            window = windows.get(variant)
            if window is None:
                continue
            part = table.filter(pc.equal(table["variant"], variant))
            window.add(flatten(part, window.subject.features))
    pairs = pairs_by_variant(labelled, labels)
    variants = []
    for name, window in windows.items():
        signature = window.subject.signature
        measured: QualityResult | None = None
        if name in pairs:
            measured = quality(signature.task, signature.classes, pairs[name])
        variants.append(window.result(plan.kinds, measured))
    return MonitorResult(
        monitor=plan.name,
        endpoint=plan.endpoint,
        window_start=start,
        window_end=end,
        kinds=plan.kinds,
        methods=describe_methods(),
        variants=variants,
        metrics=result_metrics(variants, main),
    )


def _summary(result: MonitorResult) -> dict[str, Any]:
    wanted = ("drift_share", "prediction_drift", "requests", "quality.accuracy", "quality.rmse")
    return {k: v[0] for k, v in result.metrics.items() if k in wanted}


def run_window(
    platform: Platform,
    plan: Plan,
    start: datetime,
    end: datetime,
    principal: str,
    trigger: str,
) -> MonitorRunInfo:
    """Compute and store one window; a failure is stored as a failed run and raised."""
    try:
        result = compute(platform, plan, start, end)
    except ShipyardError as error:
        record_failure(platform, plan, start, end, principal, trigger, "failed", error.message)
        raise
    except Exception as error:
        message = f"internal error ({type(error).__name__}); see the server log"
        record_failure(platform, plan, start, end, principal, trigger, "failed", message)
        raise
    document = result.model_dump_json().encode()
    result_digest = platform.blobs.put_bytes(document)
    with platform.db.session() as session:
        history = _history(session, plan.monitor_id, end)
    report_digest = platform.blobs.put_bytes(render_report(result, history))
    refresh_late_labels(platform, plan, end)
    with platform.db.session() as session:
        run = _new_run(session, plan, start, end, principal, trigger, "succeeded", "")
        run.requests = sum(v.requests for v in result.variants)
        run.summary = _summary(result)
        run.result_digest, run.report_digest = result_digest, report_digest
        for name, (value, samples) in result.metrics.items():
            session.add(
                mt.MonitorMetric(
                    run_id=run.id,
                    name=name,
                    monitor_id=plan.monitor_id,
                    window_end=end,
                    value=value,
                    samples=samples,
                )
            )
        session.flush()
        return run_info(run, plan.name)


def _new_run(
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
        run = _new_run(session, plan, start, end, principal, trigger, status, message)
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


def _history(
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


def refresh_late_labels(platform: Platform, plan: Plan, now: datetime) -> int:
    """Recompute quality of earlier windows whose labels arrived after they ran."""
    if "quality" not in plan.kinds:
        return 0
    from shipyard.store.metadata import endpoint_tables as et

    with platform.db.session() as session:
        runs = session.execute(
            sa.select(
                mt.MonitorRun.id,
                mt.MonitorRun.window_start,
                mt.MonitorRun.window_end,
                mt.MonitorRun.created_at,
                mt.MonitorRun.summary,
            )
            .where(mt.MonitorRun.monitor_id == plan.monitor_id, mt.MonitorRun.status == "succeeded")
            .order_by(mt.MonitorRun.number.desc())
            .limit(LATE_LABEL_RUNS)
        ).all()
        endpoint = find_endpoint(session, plan.endpoint)
        version = session.get_one(t.ModelVersion, endpoint.model_version_id)
        signature = ModelSignature.model_validate(version.signature)
        stale = [
            r
            for r in runs
            if session.scalar(
                sa.select(sa.func.count()).where(
                    et.Feedback.endpoint == plan.endpoint,
                    et.Feedback.received_at > _labels_at(r.created_at, r.summary),
                )
            )
        ]
    main = None
    with platform.db.session() as session:
        main_row = max(
            (v for v in variants_of(session, endpoint.id) if v.role == "production"),
            key=lambda v: v.weight,
            default=None,
        )
        main = main_row.name if main_row else None
    for run in stale:
        results = window_quality(
            platform,
            plan.endpoint,
            run.window_start,
            run.window_end,
            signature.task,
            signature.classes,
        )
        values: dict[str, tuple[float, int]] = {}
        for variant, measured in results.items():
            for suffix in [f"@{variant}", ""] if variant == main else [f"@{variant}"]:
                values[f"quality.{measured.metric}{suffix}"] = (measured.value, measured.labelled)
                for metric, value in measured.others.items():
                    values[f"quality.{metric}{suffix}"] = (value, measured.labelled)
        with platform.db.session() as session:
            for name, (value, samples) in values.items():
                row = session.get(mt.MonitorMetric, (run.id, name))
                if row is None:
                    session.add(
                        mt.MonitorMetric(
                            run_id=run.id,
                            name=name,
                            monitor_id=plan.monitor_id,
                            window_end=run.window_end,
                            value=value,
                            samples=samples,
                        )
                    )
                else:
                    row.value, row.samples = value, samples
            stored = session.get_one(mt.MonitorRun, run.id)
            stored.summary = {**stored.summary, LABELS_AT: datetime.now(UTC).isoformat()}
    return len(stale)


LABELS_AT = "labels_checked_at"


def _labels_at(created: datetime, summary: dict[str, Any]) -> datetime:
    """When the run's window last counted its labels."""
    checked = summary.get(LABELS_AT)
    return datetime.fromisoformat(checked) if isinstance(checked, str) else created


def window_of(every: timedelta, anchor: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The last whole window ending at or before ``now``."""
    periods = (now - anchor) // every
    end = anchor + periods * every
    return end - every, end


def load_json(data: bytes) -> Any:
    return orjson.loads(data)
