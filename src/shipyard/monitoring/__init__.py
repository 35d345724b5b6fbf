"""Monitors: scheduled checks of an endpoint's captured traffic and labels against a baseline.

Per window and variant: data drift per feature (Evidently's default statistics), the share
of drifted features, prediction drift, missing values, unseen categories and schema
violations; quality once labels arrive through feedback; performance estimated from the
model's probabilities (CBPE); feature-attribution drift from tree SHAP values. Each run
stores a JSON result, an HTML report and every value as a metric series.
"""

from shipyard.monitoring._metrics import metric_points, prometheus_text
from shipyard.monitoring._service import (
    create_monitor,
    delete_monitor,
    get_monitor,
    get_monitor_report,
    get_monitor_result,
    list_monitors,
    monitor_history,
    monitor_metrics,
    run_monitor,
)
from shipyard.schemas.monitoring import (
    DEFAULT_KINDS,
    KINDS,
    AttributionDrift,
    EstimatedPerformance,
    FeatureDrift,
    MetricPoint,
    MonitorInfo,
    MonitorResult,
    MonitorRunInfo,
    QualityResult,
    VariantResult,
)

__all__ = [
    "DEFAULT_KINDS",
    "KINDS",
    "AttributionDrift",
    "EstimatedPerformance",
    "FeatureDrift",
    "MetricPoint",
    "MonitorInfo",
    "MonitorResult",
    "MonitorRunInfo",
    "QualityResult",
    "VariantResult",
    "create_monitor",
    "delete_monitor",
    "get_monitor",
    "get_monitor_report",
    "get_monitor_result",
    "list_monitors",
    "metric_points",
    "monitor_history",
    "monitor_metrics",
    "prometheus_text",
    "run_monitor",
]
