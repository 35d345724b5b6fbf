"""Gates: thresholds on a model that its versions must meet to be registered, approved or
deployed, each decision recorded on the version with its reason.

The registry, endpoints and deployments call one hook each (``gate_registration``,
``gate_approval``, ``gate_deployment``). A version is evaluated on the gate's dataset
version once (the stored evaluation is reused) and compared with the baseline's
evaluation on the same data. Registration is checked synchronously inside the
registering transaction: a blocked version is never stored. Approval and deployment
record the check (passed or not) and refuse with 409 when it fails, changing nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from shipyard.errors import Conflict, InvalidInput, NotFound
from shipyard.evaluation._evaluate import Subject, stored_metrics
from shipyard.evaluation._service import data_version
from shipyard.names import Reference, parse_reference
from shipyard.platform import Platform
from shipyard.registry import resolve
from shipyard.schemas.evaluation import Stage
from shipyard.schemas.thresholds import MetricThreshold, validate
from shipyard.security import RequestContext
from shipyard.store.metadata import evaluation_tables as vt
from shipyard.store.metadata import tables as t

_VERB = {"register": "registration", "approve": "approval", "deploy": "deployment"}


@dataclass(frozen=True)
class Decision:
    passed: bool
    reason: str
    evaluation_id: str | None
    reports: tuple[str, ...] = ()
    """Digests of the reports of evaluations made for this decision."""


def baseline_reference(model: str, baseline: str) -> Reference:
    """The gate's baseline (an alias such as ``champion``, or a version number) of ``model``."""
    return parse_reference(f"{model}@{baseline}", field="baseline")


def _comparison_free(thresholds: dict[str, MetricThreshold]) -> dict[str, MetricThreshold]:
    """The rules without their comparison parts (a version is not compared with itself)."""
    kept = {
        m: r.model_copy(update={"min_absolute_change": None, "min_relative_change": None})
        for m, r in thresholds.items()
    }
    return {m: r for m, r in kept.items() if r.threshold is not None}


def decide(
    platform: Platform,
    session: Session,
    principal: str,
    gate: vt.ModelGate,
    model: t.Model,
    version: t.ModelVersion,
    stage: Stage,
) -> Decision:
    """Evaluate (or reuse the evaluation of) ``version`` and its baseline on the gate's data."""
    candidate = f"{model.name}@{version.version}"
    try:
        data_ref, data_row = data_version(session, gate.data)
    except NotFound as missing:
        return Decision(False, f"gate data {gate.data} is gone ({missing.message})", None)
    thresholds = {m: MetricThreshold.model_validate(r) for m, r in gate.thresholds.items()}
    made: list[str] = []
    try:
        evaluation_id, metrics = stored_metrics(
            platform, session, principal, Subject(model.name, version, data_ref, data_row), made
        )
    except InvalidInput as problem:
        return Decision(False, f"gate cannot evaluate {candidate}: {problem.message}", None)
    against, base_metrics = "no baseline", None
    if gate.baseline is not None:
        named = f"{model.name}@{gate.baseline}"
        try:
            _, base_row = resolve(session, baseline_reference(model.name, gate.baseline))
        except NotFound:
            against = f"baseline {named} (which does not exist)"
        else:
            against = f"baseline {named} = {model.name}@{base_row.version}"
            if base_row.id == version.id:
                thresholds = _comparison_free(thresholds)
                against += " (itself: comparison rules skipped)"
            else:
                base_subject = Subject(model.name, base_row, data_ref, data_row)
                _, base_metrics = stored_metrics(platform, session, principal, base_subject, made)
    results = validate(thresholds, metrics, base_metrics)
    failed = [r.message for r in results if not r.passed]
    context = f"{candidate} on {data_ref} against {against} (evaluation {evaluation_id})"
    if failed:
        reason = f"gate blocks {_VERB[stage]} of {context}: {'; '.join(failed)}"
        return Decision(False, reason, evaluation_id, tuple(made))
    met = "; ".join(r.message for r in results) or "no rule applies"
    reason = f"gate passed for {_VERB[stage]} of {context}: {met}"
    return Decision(True, reason, evaluation_id, tuple(made))


def _record(
    session: Session, version: t.ModelVersion, stage: Stage, decision: Decision, principal: str
) -> None:
    session.add(
        vt.GateCheck(
            model_version_id=version.id,
            stage=stage,
            passed=decision.passed,
            reason=decision.reason,
            evaluation_id=decision.evaluation_id,
            checked_by=principal,
        )
    )
    session.flush()


def _gate_for(session: Session, model: t.Model, stage: Stage) -> vt.ModelGate | None:
    gate = session.get(vt.ModelGate, model.id)
    return gate if gate is not None and stage in gate.stages else None


def gate_registration(
    ctx: RequestContext, session: Session, model: t.Model, version: t.ModelVersion
) -> None:
    """In the registering transaction, after the new version's row is flushed: raise
    Conflict (rolling the version back) when the model's gate blocks registration."""
    gate = _gate_for(session, model, "register")
    if gate is None:
        return
    decision = decide(ctx.platform, session, ctx.principal, gate, model, version, "register")
    if not decision.passed:
        for digest in decision.reports:  # their rows roll back with the version
            ctx.platform.blobs.delete(digest)
        raise Conflict(decision.reason, field="gate")
    _record(session, version, "register", decision, ctx.principal)


def _enforce(ctx: RequestContext, ref: Reference, stage: Stage) -> None:
    with ctx.platform.db.session() as session:
        model, version = resolve(session, ref)
        gate = _gate_for(session, model, stage)
        if gate is None:
            return
        decision = decide(ctx.platform, session, ctx.principal, gate, model, version, stage)
        _record(session, version, stage, decision, ctx.principal)
    if not decision.passed:
        raise Conflict(decision.reason, field="gate")


def gate_approval(ctx: RequestContext, name: str, version: int, status: str) -> None:
    """Before a version is marked Approved: refuse (409) when the gate blocks approval."""
    if status == "Approved":
        _enforce(ctx, Reference(name, version=version), "approve")


def gate_deployment(ctx: RequestContext, models: Iterable[str | None]) -> None:
    """Before versions serve traffic (endpoint create or update, a deployment): refuse (409)
    when any one's gate blocks deployment. Unknown references are left to the caller."""
    for model in models:
        if model is None:
            continue
        ref = parse_reference(model, field="model")
        try:
            _enforce(ctx, ref, "deploy")
        except NotFound:
            continue
