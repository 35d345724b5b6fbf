"""One window of one monitor, computed and stored: the JSON result and HTML report as
blobs, every value as a metric row, and earlier windows' quality refreshed with late
labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shipyard.errors import ShipyardError
from shipyard.monitoring._late_labels import refresh_late_labels
from shipyard.monitoring._plan import Plan, compute
from shipyard.monitoring._records import history, new_run, record_failure, run_info
from shipyard.monitoring._report import render_report
from shipyard.platform import Platform
from shipyard.schemas.monitoring import MonitorResult, MonitorRunInfo
from shipyard.store.metadata import monitor_tables as mt


def _summary(result: MonitorResult) -> dict[str, Any]:
    """Headline figures on one scale each: the prediction drift's score is a p-value or a
    distance by the method chosen, so the summary says only whether it drifted."""
    wanted = ("drift_share", "prediction_drifted", "requests", "quality.accuracy", "quality.rmse")
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
        series = history(session, plan.monitor_id, end)
    report_digest = platform.blobs.put_bytes(render_report(result, series))
    refresh_late_labels(platform, plan, end)
    with platform.db.session() as session:
        run = new_run(session, plan, start, end, principal, trigger, "succeeded", "")
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
