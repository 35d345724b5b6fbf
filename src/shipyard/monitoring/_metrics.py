"""Every value a run exports: names, the series ``metric_points`` reads, Prometheus text."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.errors import NotFound
from shipyard.schemas.monitoring import MetricPoint, VariantResult
from shipyard.store.metadata import monitor_tables as mt

Values = dict[str, tuple[float, int]]


def _variant_metrics(result: VariantResult) -> Values:
    values: Values = {"requests": (float(result.requests), result.requests)}
    values["schema_violations"] = (float(result.schema_violations), result.rows)
    if result.drift_share is not None:
        values["drift_share"] = (result.drift_share, result.rows)
    for feature in result.features:
        if feature.score is not None:
            values[f"drift.{feature.feature}"] = (feature.score, feature.current_rows)
            values[f"drifted.{feature.feature}"] = (float(feature.drifted), feature.current_rows)
    if result.prediction is not None and result.prediction.score is not None:
        rows = result.prediction.current_rows
        values["prediction_drift"] = (result.prediction.score, rows)  # the method's own scale
        values["prediction_drifted"] = (float(result.prediction.drifted), rows)
    if result.missing_share is not None:
        values["missing_share"] = (result.missing_share, result.rows)
    if result.unseen_share is not None:
        values["unseen_share"] = (result.unseen_share, result.rows)
    if result.quality is not None:
        labelled = result.quality.labelled
        values[f"quality.{result.quality.metric}"] = (result.quality.value, labelled)
        for metric, value in result.quality.others.items():
            values[f"quality.{metric}"] = (value, labelled)
    if result.estimated is not None and result.estimated.refused is None:
        for metric, value in result.estimated.metrics.items():
            values[f"estimated.{metric}"] = (value, result.estimated.rows)
    if result.attribution is not None and result.attribution.score is not None:
        values["attribution_drift"] = (result.attribution.score, result.attribution.rows)
    return values


def result_metrics(variants: list[VariantResult], main: str | None) -> Values:
    """Each variant's values suffixed ``@<variant>``; the main variant's also unsuffixed."""
    values: Values = {}
    for result in variants:
        own = _variant_metrics(result)
        values.update({f"{name}@{result.variant}": v for name, v in own.items()})
        if result.variant == main:
            values.update(own)
    return values


def metric_points(
    session: Session, monitor: str, metric: str, since: datetime | None = None
) -> list[MetricPoint]:
    """The series of one monitor metric (e.g. ``drift_share``, ``quality.accuracy@blue``),
    oldest first, one point per window at its end; NotFound for an unknown monitor."""
    monitor_id = session.scalar(sa.select(mt.Monitor.id).where(mt.Monitor.name == monitor))
    if monitor_id is None:
        raise NotFound(f"monitor {monitor!r} does not exist", field="monitor")
    query = sa.select(
        mt.MonitorMetric.window_end, mt.MonitorMetric.value, mt.MonitorMetric.samples
    ).where(mt.MonitorMetric.monitor_id == monitor_id, mt.MonitorMetric.name == metric)
    if since is not None:
        query = query.where(mt.MonitorMetric.window_end >= since)
    rows = session.execute(query.order_by(mt.MonitorMetric.window_end))
    return [MetricPoint(time=at, value=value, samples=samples) for at, value, samples in rows]


_UNSAFE = re.compile(r"[^a-zA-Z0-9_]")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(monitor: str, endpoint: str, values: dict[str, float]) -> str:
    """The latest values as Prometheus text: ``shipyard_monitor_<metric>`` gauges labelled
    with monitor, endpoint, variant and (for per-feature values) feature."""
    families: dict[str, list[str]] = {}
    for name, value in sorted(values.items()):
        base, _, variant = name.partition("@")
        labels = {"monitor": monitor, "endpoint": endpoint, "variant": variant}
        head, dot, rest = base.partition(".")
        if dot and head in ("drift", "drifted"):
            labels["feature"] = rest
            metric = f"shipyard_monitor_feature_{head}"
        else:
            metric = "shipyard_monitor_" + _UNSAFE.sub("_", base)
        text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
        families.setdefault(metric, []).append(f"{metric}{{{text}}} {value!r}")
    lines = []
    for metric, samples in families.items():
        lines.append(f"# TYPE {metric} gauge")
        lines.extend(samples)
    return "\n".join(lines) + "\n"
