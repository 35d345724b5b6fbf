"""Model steps: evaluate against a champion, branch on a condition, register, approve,
deploy with a guarded rollout."""

from __future__ import annotations

import operator
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from shipyard.errors import InvalidInput
from shipyard.names import parse_reference, resource
from shipyard.pipelines._evaluate import declare_evaluate, run_evaluate
from shipyard.pipelines._step_base import (
    POLL_SECONDS,
    StepFailed,
    StepKind,
    StepRun,
    op_accesses,
    text,
)
from shipyard.security import Access, ResourceName

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def _none(session: Session, config: dict[str, Any]) -> list[Access]:
    return []


def _run_condition(step: StepRun, config: dict[str, Any]) -> dict[str, Any]:
    """``if: VALUE`` (true or false), or ``left``, ``op`` and ``right``; steps listed under
    ``then`` run when it holds, those under ``else`` when not, the others end skipped."""
    if "if" in config:
        value = config["if"]
        if not isinstance(value, bool):
            raise InvalidInput(f"must be true or false, not {value!r}", field="with.if")
        result = value
    else:
        op = config.get("op", "==")
        if op not in _OPERATORS:
            raise InvalidInput(f"must be one of {', '.join(_OPERATORS)}", field="with.op")
        left, right = config.get("left"), config.get("right")
        try:
            result = bool(_OPERATORS[op](left, right))
        except TypeError:
            raise InvalidInput(f"cannot compare {left!r} {op} {right!r}", field="with.op") from None
    branch = "then" if result else "else"
    step.log(f"condition is {str(result).lower()}: {branch} branch {config.get(branch, [])}")
    return {"result": result, "branch": branch}


def _model_name(config: dict[str, Any]) -> str:
    name = text(config, "model") or ""
    if "@" in name:
        raise InvalidInput("name the model (not a version) to register to", field="with.model")
    return name


def _declare_register(session: Session, config: dict[str, Any]) -> list[Access]:
    name = _model_name(config)
    found = [Access("registry:RegisterModel", ResourceName.of(resource("model", name)))]
    alias = text(config, "alias", required=False)
    if alias is not None:
        found.append(
            Access(
                "registry:SetAlias",
                ResourceName(resource("model", name, alias), (resource("model", name),)),
            )
        )
    return found


def _run_register(step: StepRun, config: dict[str, Any]) -> dict[str, Any]:
    """Register the model of run ``run`` as the next version of ``model``; ``alias`` (for
    example champion) moves to it."""
    from shipyard import registry

    name, run_id = _model_name(config), text(config, "run") or ""
    token = f"{step.run_id}.{step.step}"[:64]
    info = registry.register_model(step.ctx, name, run_id, client_token=token)
    alias = text(config, "alias", required=False)
    if alias is not None:
        registry.set_alias(step.ctx, name, alias, info.version)
    step.log(f"registered run {run_id} as {name}@{info.version}" + (f" ({alias})" if alias else ""))
    return {"model_version": f"{name}@{info.version}", "model": name, "version": info.version}


def _version_of(config: dict[str, Any], key: str) -> tuple[str, int | None]:
    ref = parse_reference(text(config, key) or "", field=f"with.{key}")
    return ref.name, ref.version


def _declare_approve(session: Session, config: dict[str, Any]) -> list[Access]:
    name, version = _version_of(config, "model_version")
    return [Access("registry:UpdateApproval", ResourceName.versioned("model", name, version))]


def _run_approve(step: StepRun, config: dict[str, Any]) -> dict[str, Any]:
    """Set the approval of ``model_version`` (``status``: Approved by default)."""
    from shipyard import registry

    name, version = _version_of(config, "model_version")
    if version is None:
        raise InvalidInput("name the version (model@3)", field="with.model_version")
    status = str(config.get("status", "Approved"))
    info = registry.set_approval(step.ctx, name, version, status)
    return {"model_version": f"{name}@{info.version}", "approval": info.approval}


_DEPLOY_KEYS = (
    "endpoint",
    "model",
    "strategy",
    "canary_percent",
    "step_percent",
    "bake",
    "rollback_on",
    "variant",
    "runtime",
    "health_timeout",
)


def _deploy_args(config: dict[str, Any]) -> dict[str, Any]:
    for key in config:
        if key not in (*_DEPLOY_KEYS, "timeout"):
            raise InvalidInput(f"unknown setting {key!r}", field=f"with.{key}")
    return {k: config[k] for k in _DEPLOY_KEYS if k in config}


def _declare_deploy(session: Session, config: dict[str, Any]) -> list[Access]:
    from shipyard import deploy

    args = {"endpoint": text(config, "endpoint"), "model": text(config, "model")}
    return op_accesses(deploy.create_deployment, session, args)


def _run_deploy(step: StepRun, config: dict[str, Any]) -> dict[str, Any]:
    """Roll ``model`` out onto ``endpoint`` (canary by default, with its alarms and automatic
    rollback) and follow the rollout; rolled back or failed fails the step."""
    from shipyard import deploy
    from shipyard.pipelines._step_base import call

    timeout = float(config.get("timeout", 3600))
    info = call(deploy.create_deployment, step.ctx, _deploy_args(config))
    step.log(f"deployment {info.id} of {info.model} to {info.endpoint} started")
    deadline = time.monotonic() + timeout
    while info.status == "running":
        if time.monotonic() > deadline:
            raise StepFailed(f"deployment {info.id} still running after {timeout:g} s")
        time.sleep(POLL_SECONDS)
        info = deploy.get_deployment(step.ctx, info.id)
    if info.status != "succeeded":
        raise StepFailed(f"deployment {info.id} {info.status}: {info.reason}")
    return {"deployment": info.id, "status": info.status}


def _model_out(outputs: dict[str, Any]) -> list[tuple[str, str]]:
    return [("model-version", str(outputs["model_version"]))]


MODEL_STEPS = (
    StepKind("evaluate", run_evaluate, declare_evaluate),
    StepKind("condition", _run_condition, _none, cacheable=False),
    StepKind("register", _run_register, _declare_register, _model_out),
    StepKind("approve", _run_approve, _declare_approve, cacheable=False),
    StepKind(
        "deploy",
        _run_deploy,
        _declare_deploy,
        lambda o: [("deployment", str(o["deployment"]))],
        cacheable=False,
    ),
)
