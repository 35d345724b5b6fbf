"""Evaluation operations: evaluate a model version on labelled data, read the results back."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.datasets import dataset_ref_resource, find_version
from shipyard.errors import InvalidInput, NotFound
from shipyard.evaluation._evaluate import (
    Baseline,
    Settings,
    Subject,
    run_evaluation,
    stored_metrics,
)
from shipyard.flavors import ModelSignature
from shipyard.names import parse_reference, resource
from shipyard.registry import model_version_access, model_version_resource, resolve
from shipyard.schemas.evaluation import EvaluationInfo
from shipyard.schemas.thresholds import MetricThreshold, checked_thresholds
from shipyard.security import Access, RequestContext, ResourceName, operation
from shipyard.store.metadata import evaluation_tables as vt
from shipyard.store.metadata import tables as t

MAX_RESAMPLES = 5_000


def data_version(
    session: Session, data: str, *, field: str = "data"
) -> tuple[str, t.DatasetVersion]:
    """``(name@version, row)`` of a dataset reference; the latest when no version is given."""
    ref = parse_reference(data, field=field)
    if ref.alias is not None:
        raise InvalidInput("datasets are named by version (name@3), not alias", field=field)
    row = find_version(session, ref.name, ref.version)
    return f"{ref.name}@{row.version}", row


def _evaluate_uses(session: Session, data: str, baseline: str | None) -> list[Access]:
    """Reading the labelled data, and the baseline version compared against."""
    uses = [Access("datasets:ReadData", dataset_ref_resource(session, data, field="data"))]
    if baseline is not None:
        uses.append(model_version_access(session, baseline, field="baseline"))
    return uses


@operation(
    "registry:EvaluateModelVersion",
    model_version_resource,
    uses=_evaluate_uses,
    mutating=True,
)
def evaluate_model_version(
    ctx: RequestContext,
    ref: str,
    data: str,
    baseline: str | None = None,
    thresholds: dict[str, MetricThreshold] | None = None,
    resamples: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> EvaluationInfo:
    """Evaluate ``ref`` on dataset version ``data`` (labels in the signature's target column):
    metrics with bootstrap intervals and an HTML report, stored with the version.

    With ``thresholds`` (MLflow's MetricThreshold rules) the result says whether the version
    passed; comparison rules need a ``baseline`` version, evaluated on the same data.
    """
    if not 0 <= resamples <= MAX_RESAMPLES:
        raise InvalidInput(f"must be between 0 and {MAX_RESAMPLES}", field="resamples")
    if seed < 0:
        raise InvalidInput("must not be negative", field="seed")
    if not 0.5 <= confidence < 1:
        raise InvalidInput("must be at least 0.5 and below 1", field="confidence")
    settings = Settings(resamples=resamples, confidence=confidence, seed=seed)
    with ctx.platform.db.session() as session:
        model, version = resolve(session, parse_reference(ref))
        task = ModelSignature.model_validate(version.signature).task
        rules = checked_thresholds(thresholds or {}, task)
        data_ref, data_row = data_version(session, data)
        subject = Subject(model.name, version, data_ref, data_row)
        against = None
        if baseline is not None:
            base_model, base_version = resolve(session, parse_reference(baseline, field="baseline"))
            base_subject = Subject(base_model.name, base_version, data_ref, data_row)
            _, metrics = stored_metrics(ctx.platform, session, ctx.principal, base_subject)
            against = Baseline(f"{base_model.name}@{base_version.version}", base_version, metrics)
        return run_evaluation(
            ctx.platform,
            session,
            ctx.principal,
            subject,
            baseline=against,
            thresholds=rules,
            settings=settings,
        )


def _evaluation_row(session: Session, evaluation_id: str) -> vt.ModelEvaluation:
    row = session.get(vt.ModelEvaluation, evaluation_id)
    if row is None:
        raise NotFound(f"evaluation {evaluation_id!r} does not exist", field="evaluation_id")
    return row


def evaluation_resource(session: Session, evaluation_id: str) -> ResourceName:
    """``sy:evaluation/<model>/<id>`` (also ``sy:evaluation/<id>``), under its model."""
    row = session.get(vt.ModelEvaluation, evaluation_id)
    model = None
    if row is not None:
        model = session.scalar(
            sa.select(t.Model.name)
            .join(t.ModelVersion, t.ModelVersion.model_id == t.Model.id)
            .where(t.ModelVersion.id == row.model_version_id)
        )
    return ResourceName.scoped("evaluation", model, evaluation_id)


@operation("registry:GetEvaluation", evaluation_resource, mutating=False)
def get_evaluation(ctx: RequestContext, evaluation_id: str) -> EvaluationInfo:
    """One stored evaluation: metrics, intervals, validation and the report's digest."""
    with ctx.platform.db.session() as session:
        return EvaluationInfo.model_validate(_evaluation_row(session, evaluation_id).document)


@operation("registry:GetEvaluation", evaluation_resource, mutating=False)
def get_evaluation_report(ctx: RequestContext, evaluation_id: str) -> bytes:
    """The evaluation's self-contained HTML report."""
    with ctx.platform.db.session() as session:
        digest = _evaluation_row(session, evaluation_id).report_digest
    return ctx.platform.blobs.get_bytes(digest)


@operation(
    "registry:ListEvaluations",
    lambda ref: resource("evaluation", parse_reference(ref).name),
    mutating=False,
)
def list_evaluations(ctx: RequestContext, ref: str, limit: int = 50) -> list[EvaluationInfo]:
    """Evaluations of a version (``m@3``, ``m@champion``) or of every version (``m``), newest
    first."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("must be between 1 and 1000", field="limit")
    parsed = parse_reference(ref)
    query = (
        sa.select(vt.ModelEvaluation)
        .join(t.ModelVersion, t.ModelVersion.id == vt.ModelEvaluation.model_version_id)
        .order_by(vt.ModelEvaluation.created_at.desc())
        .limit(limit)
    )
    with ctx.platform.db.session() as session:
        if parsed.version is None and parsed.alias is None:
            model = session.scalar(sa.select(t.Model).where(t.Model.name == parsed.name))
            if model is None:
                raise NotFound(f"model {parsed.name!r} does not exist", field="ref")
            query = query.where(t.ModelVersion.model_id == model.id)
        else:
            _, version = resolve(session, parsed)
            query = query.where(vt.ModelEvaluation.model_version_id == version.id)
        return [EvaluationInfo.model_validate(r.document) for r in session.scalars(query)]
