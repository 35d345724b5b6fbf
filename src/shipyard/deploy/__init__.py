"""Guarded deployments: blue/green rollouts in baked steps with alarms and automatic rollback."""

from shipyard.deploy._alarms import Alarm, Condition, parse_alarm
from shipyard.deploy._controller import STALE_SECONDS, advance
from shipyard.deploy._plan import STRATEGIES, step_weights, traffic_steps
from shipyard.deploy._service import (
    advance_deployment,
    create_deployment,
    get_deployment,
    list_deployments,
    resume_deployment,
    rollback_endpoint,
)
from shipyard.schemas.deploy import TICK_SECONDS, DeploymentEvent, DeploymentInfo, StepProgress
from shipyard.schemas.durations import parse_duration

__all__ = [
    "STALE_SECONDS",
    "STRATEGIES",
    "TICK_SECONDS",
    "Alarm",
    "Condition",
    "DeploymentEvent",
    "DeploymentInfo",
    "StepProgress",
    "advance",
    "advance_deployment",
    "create_deployment",
    "get_deployment",
    "list_deployments",
    "parse_alarm",
    "parse_duration",
    "resume_deployment",
    "rollback_endpoint",
    "step_weights",
    "traffic_steps",
]
