"""Model evaluation and gates: metrics with bootstrap intervals and an HTML report per
evaluation, and validation thresholds that can block registration, approval and deployment.

The names load on first use: the registry, endpoints and deployments call the gate hooks,
and this package reads through the registry, so neither imports the other at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipyard.evaluation._checks import gate_checks_of
    from shipyard.evaluation._gate_service import delete_gate, get_gate, set_gate
    from shipyard.evaluation._gates import (
        gate_approval,
        gate_deployment,
        gate_registration,
    )
    from shipyard.evaluation._models import (
        EvaluationInfo,
        GateCheckInfo,
        GateInfo,
        MetricEstimate,
    )
    from shipyard.evaluation._service import (
        evaluate_model_version,
        get_evaluation,
        get_evaluation_report,
        list_evaluations,
    )
    from shipyard.evaluation._thresholds import (
        METRICS,
        MetricThreshold,
        RuleResult,
        parse_thresholds,
        validate,
    )

_LAZY = {
    "delete_gate": "_gate_service",
    "get_gate": "_gate_service",
    "set_gate": "_gate_service",
    "gate_approval": "_gates",
    "gate_checks_of": "_checks",
    "gate_deployment": "_gates",
    "gate_registration": "_gates",
    "EvaluationInfo": "_models",
    "GateCheckInfo": "_models",
    "GateInfo": "_models",
    "MetricEstimate": "_models",
    "evaluate_model_version": "_service",
    "get_evaluation": "_service",
    "get_evaluation_report": "_service",
    "list_evaluations": "_service",
    "METRICS": "_thresholds",
    "MetricThreshold": "_thresholds",
    "RuleResult": "_thresholds",
    "parse_thresholds": "_thresholds",
    "validate": "_thresholds",
}

__all__ = [
    "METRICS",
    "EvaluationInfo",
    "GateCheckInfo",
    "GateInfo",
    "MetricEstimate",
    "MetricThreshold",
    "RuleResult",
    "delete_gate",
    "evaluate_model_version",
    "gate_approval",
    "gate_checks_of",
    "gate_deployment",
    "gate_registration",
    "get_evaluation",
    "get_evaluation_report",
    "get_gate",
    "list_evaluations",
    "parse_thresholds",
    "set_gate",
    "validate",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'shipyard.evaluation' has no attribute {name!r}")
    return getattr(importlib.import_module(f"shipyard.evaluation.{module}"), name)
