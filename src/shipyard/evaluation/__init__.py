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
    from shipyard.evaluation._service import (
        evaluate_model_version,
        get_evaluation,
        get_evaluation_report,
        list_evaluations,
    )
    from shipyard.schemas.evaluation import (
        EvaluationInfo,
        GateCheckInfo,
        GateInfo,
        MetricEstimate,
    )
    from shipyard.schemas.thresholds import (
        METRICS,
        MetricThreshold,
        RuleResult,
        parse_thresholds,
        validate,
    )

_LAZY = {
    "delete_gate": "shipyard.evaluation._gate_service",
    "get_gate": "shipyard.evaluation._gate_service",
    "set_gate": "shipyard.evaluation._gate_service",
    "gate_approval": "shipyard.evaluation._gates",
    "gate_checks_of": "shipyard.evaluation._checks",
    "gate_deployment": "shipyard.evaluation._gates",
    "gate_registration": "shipyard.evaluation._gates",
    "EvaluationInfo": "shipyard.schemas.evaluation",
    "GateCheckInfo": "shipyard.schemas.evaluation",
    "GateInfo": "shipyard.schemas.evaluation",
    "MetricEstimate": "shipyard.schemas.evaluation",
    "evaluate_model_version": "shipyard.evaluation._service",
    "get_evaluation": "shipyard.evaluation._service",
    "get_evaluation_report": "shipyard.evaluation._service",
    "list_evaluations": "shipyard.evaluation._service",
    "METRICS": "shipyard.schemas.thresholds",
    "MetricThreshold": "shipyard.schemas.thresholds",
    "RuleResult": "shipyard.schemas.thresholds",
    "parse_thresholds": "shipyard.schemas.thresholds",
    "validate": "shipyard.schemas.thresholds",
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
    return getattr(importlib.import_module(module), name)
