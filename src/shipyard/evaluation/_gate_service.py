"""Gate operations: set, read and remove the validation thresholds a model's versions
must meet to be registered, approved or deployed."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.datasets import dataset_ref_resource
from shipyard.errors import InvalidInput, NotFound
from shipyard.evaluation._gates import baseline_reference
from shipyard.evaluation._service import data_version
from shipyard.flavors import ModelSignature
from shipyard.names import Reference, resource
from shipyard.registry import resolve
from shipyard.schemas.evaluation import STAGES, GateInfo, Stage
from shipyard.schemas.thresholds import MetricThreshold, checked_thresholds
from shipyard.security import Access, RequestContext, operation
from shipyard.store.metadata import evaluation_tables as vt
from shipyard.store.metadata import tables as t


def _model_resource(name: str) -> str:
    return resource("model", name)


def _gate_info(model: str, row: vt.ModelGate) -> GateInfo:
    return GateInfo(
        model=model,
        data=row.data,
        baseline=row.baseline,
        thresholds={m: MetricThreshold.model_validate(r) for m, r in row.thresholds.items()},
        stages=row.stages,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _model_and_gate(session: Session, name: str) -> tuple[t.Model, vt.ModelGate]:
    model, _ = resolve(session, Reference(name))
    gate = session.get(vt.ModelGate, model.id)
    if gate is None:
        raise NotFound(f"model {name!r} has no gate", field="name")
    return model, gate


@operation(
    "registry:PutModelGate",
    _model_resource,
    uses=lambda session, data: [
        Access("datasets:ReadData", dataset_ref_resource(session, data, field="data"))
    ],
    mutating=True,
)
def set_gate(
    ctx: RequestContext,
    name: str,
    data: str,
    thresholds: dict[str, MetricThreshold],
    baseline: str | None = "champion",
    stages: list[Stage] | None = None,
) -> GateInfo:
    """Hold ``name``'s versions to ``thresholds`` on ``data`` (``bc`` for its latest version
    at each check, ``bc@3`` for one), compared with the ``baseline`` alias or version, at
    ``stages`` (default: register, approve and deploy). Replaces an earlier gate."""
    chosen = list(dict.fromkeys(stages if stages is not None else STAGES))
    if not chosen:
        raise InvalidInput("name at least one of register, approve, deploy", field="stages")
    if not thresholds:
        raise InvalidInput("a gate needs at least one threshold", field="thresholds")
    with ctx.platform.db.session() as session:
        model, latest = resolve(session, Reference(name))
        task = ModelSignature.model_validate(latest.signature).task
        rules = checked_thresholds(thresholds, task)
        data_version(session, data)
        if baseline is not None:
            baseline = baseline.removeprefix(f"{name}@")
            baseline_reference(name, baseline)
        elif any(r.min_absolute_change or r.min_relative_change for r in rules.values()):
            raise InvalidInput("comparison rules need a baseline to compare with", field="baseline")
        row = session.get(vt.ModelGate, model.id)
        if row is None:
            row = vt.ModelGate(model_id=model.id)
            session.add(row)
        row.data = data
        row.baseline = baseline
        row.thresholds = {m: r.model_dump(exclude_none=True) for m, r in rules.items()}
        row.stages = chosen
        row.created_by = ctx.principal
        row.created_at = utcnow()
        session.flush()
        return _gate_info(name, row)


@operation("registry:GetModelGate", _model_resource, mutating=False)
def get_gate(ctx: RequestContext, name: str) -> GateInfo:
    """A model's gate: its data, baseline, thresholds and stages."""
    with ctx.platform.db.session() as session:
        _, gate = _model_and_gate(session, name)
        return _gate_info(name, gate)


@operation("registry:DeleteModelGate", _model_resource, mutating=True)
def delete_gate(ctx: RequestContext, name: str) -> GateInfo:
    """Remove a model's gate; its recorded checks stay on the versions."""
    with ctx.platform.db.session() as session:
        _, gate = _model_and_gate(session, name)
        info = _gate_info(name, gate)
        session.delete(gate)
        session.flush()
        return info
