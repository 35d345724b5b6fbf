"""The monitor step: watch an endpoint's captured traffic from a pipeline (for example
once a deploy step has rolled a new version out)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shipyard.errors import InvalidInput, NotFound
from shipyard.pipelines._step_base import StepKind, StepRun, call, op_accesses, text
from shipyard.security import Access

_KEYS = ("monitor", "endpoint", "schedule", "kinds", "baseline")


def _create_args(config: dict[str, Any]) -> dict[str, Any]:
    """The step's settings as ``monitoring.create`` takes them (``monitor`` is its name)."""
    for key in config:
        if key not in _KEYS:
            raise InvalidInput(f"unknown setting {key!r}", field=f"with.{key}")
    args = {"name": text(config, "monitor"), "endpoint": text(config, "endpoint")}
    return args | {k: config[k] for k in ("schedule", "kinds", "baseline") if k in config}


def _declare_monitor(session: Session, config: dict[str, Any]) -> list[Access]:
    """Reading the monitor of that name, replacing it (deleting it) and creating it."""
    from shipyard import monitoring

    args = _create_args(config)
    named = {"name": args["name"]}
    return [
        *op_accesses(monitoring.get_monitor, session, named),
        *op_accesses(monitoring.delete_monitor, session, named),
        *op_accesses(monitoring.create_monitor, session, args),
    ]


def _run_monitor(step: StepRun, config: dict[str, Any]) -> dict[str, Any]:
    """Create monitor ``monitor`` on ``endpoint``; one of that name with the same definition
    is kept (with its history), one with another definition is replaced (deleting it is
    authorized as the run's principal too)."""
    from shipyard import monitoring

    args = _create_args(config)
    name = str(args["name"])
    try:
        existing = monitoring.get_monitor(step.ctx, name)
    except NotFound:
        existing = None
    if existing is not None:
        stored = (existing.endpoint, existing.baseline, existing.kinds, existing.schedule_seconds)
        if stored == _definition(args):
            step.log(f"monitor {name} on {existing.endpoint} is unchanged")
            return {"monitor": name, "endpoint": existing.endpoint, "created": False}
        monitoring.delete_monitor(step.ctx, name)
        step.log(f"monitor {name} replaced (its definition changed)")
    info = call(monitoring.create_monitor, step.ctx, args)
    step.log(f"monitor {info.name} on {info.endpoint} every {info.schedule_seconds} s")
    return {"monitor": info.name, "endpoint": info.endpoint, "created": True}


def _definition(args: dict[str, Any]) -> tuple[Any, ...]:
    """(endpoint, baseline, kinds, seconds) as a stored monitor holds them; the kinds and
    schedule are checked here, before an existing monitor is replaced."""
    from shipyard.monitoring import DEFAULT_KINDS, KINDS
    from shipyard.monitoring._schedule import parse_schedule

    kinds = args.get("kinds", list(DEFAULT_KINDS))
    if not isinstance(kinds, list) or not kinds or any(k not in KINDS for k in kinds):
        raise InvalidInput(f"give kinds from {', '.join(KINDS)}", field="with.kinds")
    schedule = args.get("schedule", "1h")
    if not isinstance(schedule, str):
        raise InvalidInput("must be a period such as 1h", field="with.schedule")
    try:
        seconds = parse_schedule(schedule)
    except InvalidInput as error:
        raise InvalidInput(error.message, field="with.schedule") from None
    ordered = [k for k in KINDS if k in kinds]
    return args["endpoint"], args.get("baseline"), ordered, seconds


MONITOR_STEPS = (
    StepKind(
        "monitor",
        _run_monitor,
        _declare_monitor,
        lambda o: [("monitor", str(o["monitor"]))],
        cacheable=False,
    ),
)
