"""Late labels: a label counts in its request's window, so a run recomputes the quality of
earlier windows whose labels arrived after they last counted them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from shipyard.endpoints import find_endpoint, variants_of
from shipyard.flavors import ModelSignature
from shipyard.monitoring._plan import Plan
from shipyard.monitoring._quality import window_quality
from shipyard.platform import Platform
from shipyard.store.metadata import endpoint_tables as et
from shipyard.store.metadata import monitor_tables as mt
from shipyard.store.metadata import tables as t

LATE_LABEL_RUNS = 24
"""How many earlier windows a run refreshes when labels for them arrived since."""
LABELS_AT = "labels_checked_at"


def _labels_at(created: datetime, summary: dict[str, Any]) -> datetime:
    """When the run's window last counted its labels."""
    checked = summary.get(LABELS_AT)
    return datetime.fromisoformat(checked) if isinstance(checked, str) else created


def refresh_late_labels(platform: Platform, plan: Plan, now: datetime) -> int:
    """Recompute quality of earlier windows whose labels arrived after they ran."""
    if "quality" not in plan.kinds:
        return 0
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
