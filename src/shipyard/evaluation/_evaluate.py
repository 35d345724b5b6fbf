"""One evaluation: score, measure with bootstrap intervals, validate, report, and store.

Rows are added to the caller's session, so an evaluation made while registering a
version commits or rolls back with that version.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.evaluation._metrics import ClassificationScores, RegressionScores, bootstrap
from shipyard.evaluation._report import render_report
from shipyard.evaluation._scoring import Scored, check_labelled, score_version
from shipyard.platform import Platform
from shipyard.registry import load_version_predictor
from shipyard.schemas.evaluation import EvaluationInfo, MetricEstimate
from shipyard.schemas.thresholds import MetricThreshold, validate
from shipyard.store.metadata import evaluation_tables as vt
from shipyard.store.metadata import tables as t


@dataclass(frozen=True)
class Settings:
    resamples: int = 200
    confidence: float = 0.95
    seed: int = 0


@dataclass(frozen=True)
class Subject:
    """A model version and the labelled dataset version it is evaluated on."""

    model: str
    version: t.ModelVersion
    data_ref: str
    data: t.DatasetVersion


@dataclass(frozen=True)
class Baseline:
    ref: str
    version: t.ModelVersion
    metrics: dict[str, float]


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _measure(scored: Scored, task: str, settings: Settings) -> dict[str, MetricEstimate]:
    if task == "classification":
        assert scored.classes is not None
        scores = ClassificationScores(
            scored.y_true, scored.y_pred, scored.probabilities, len(scored.classes)
        )
        compute = scores.in_score_order().metric_fn()
    else:
        compute = RegressionScores(scored.y_true, scored.y_pred).metric_fn()
    found = bootstrap(
        compute,
        len(scored.y_true),
        resamples=settings.resamples,
        seed=settings.seed,
        confidence=settings.confidence,
    )
    return {
        name: MetricEstimate(value=_finite(e.value), low=_finite(e.low), high=_finite(e.high))
        for name, e in found.items()
    }


def _confusion(scored: Scored) -> list[list[int]] | None:
    if scored.classes is None:
        return None
    k = len(scored.classes)
    counts = np.bincount(scored.y_true * k + scored.y_pred, minlength=k * k)
    return counts.reshape(k, k).tolist()


def run_evaluation(
    platform: Platform,
    session: Session,
    principal: str,
    subject: Subject,
    *,
    baseline: Baseline | None = None,
    thresholds: Mapping[str, MetricThreshold] | None = None,
    settings: Settings = Settings(),
) -> EvaluationInfo:
    """Evaluate, store the report blob and add the evaluation row to ``session``."""
    predictor = load_version_predictor(platform, subject.version)
    check_labelled(subject.data_ref, subject.data, predictor)
    scored = score_version(platform, subject.data_ref, subject.data, predictor)
    task = predictor.signature.task
    metrics = _measure(scored, task, settings)
    rules = dict(thresholds or {})
    point = {k: m.value for k, m in metrics.items() if m.value is not None}
    results = validate(rules, point, baseline.metrics if baseline else None) if rules else []
    info = EvaluationInfo(
        id=uuid.uuid4().hex,
        model=subject.model,
        version=subject.version.version,
        data=subject.data_ref,
        target=predictor.signature.target,
        task=task,
        rows=len(scored.y_true),
        metrics=metrics,
        confidence=settings.confidence,
        resamples=settings.resamples,
        seed=settings.seed,
        classes=[str(c) for c in scored.classes] if scored.classes is not None else None,
        confusion_matrix=_confusion(scored),
        baseline=baseline.ref if baseline else None,
        baseline_metrics=dict(baseline.metrics) if baseline else None,
        thresholds=rules,
        validation=results,
        passed=all(r.passed for r in results) if rules else None,
        created_by=principal,
        created_at=utcnow(),
    )
    digest = platform.blobs.put_bytes(render_report(info, scored))
    info = info.model_copy(update={"report_digest": digest})
    session.add(
        vt.ModelEvaluation(
            id=info.id,
            model_version_id=subject.version.id,
            dataset_version_id=subject.data.id,
            baseline_version_id=baseline.version.id if baseline else None,
            rows=info.rows,
            document=info.model_dump(mode="json"),
            passed=info.passed,
            report_digest=digest,
            created_by=principal,
            created_at=info.created_at,
        )
    )
    session.flush()
    return info


def stored_metrics(
    platform: Platform,
    session: Session,
    principal: str,
    subject: Subject,
    made: list[str] | None = None,
) -> tuple[str, dict[str, float]]:
    """``(evaluation id, point metrics)`` of the version on the data: the newest stored
    evaluation, or a new one (stored; its report's digest appended to ``made``)."""
    row = session.scalar(
        sa.select(vt.ModelEvaluation)
        .where(
            vt.ModelEvaluation.model_version_id == subject.version.id,
            vt.ModelEvaluation.dataset_version_id == subject.data.id,
        )
        .order_by(vt.ModelEvaluation.created_at.desc())
        .limit(1)
    )
    if row is not None:
        info = EvaluationInfo.model_validate(row.document)
        return info.id, info.point()
    new = run_evaluation(platform, session, principal, subject)
    if made is not None:
        made.append(new.report_digest)
    return new.id, new.point()
