"""A/B results: per-variant traffic, errors and latency, and quality from ground-truth feedback."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from shipyard.clock import epoch_seconds
from shipyard.endpoints._describe import endpoint_info
from shipyard.endpoints._quality import LabelledPairs, as_number, labelled_pairs, normalize_label
from shipyard.endpoints._statistics import (
    bootstrap_rmse_difference,
    bootstrap_rmse_interval,
    rmse,
    two_proportion_z_test,
    wilson_interval,
)
from shipyard.endpoints._stats import variant_metrics
from shipyard.endpoints._variants import find_endpoint
from shipyard.errors import InvalidInput
from shipyard.flavors import ModelSignature
from shipyard.names import resource
from shipyard.schemas.endpoints import (
    MAX_FEEDBACK,
    CompareReport,
    FeedbackReceipt,
    FeedbackRecord,
    VariantComparison,
    VariantMetrics,
    VariantQuality,
    VariantReport,
)
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import endpoint_tables as et
from shipyard.store.metadata import tables as t


def _endpoint_resource(name: str) -> str:
    return resource("endpoint", name)


@operation("endpoints:PutFeedback", _endpoint_resource, mutating=True)
def put_feedback(ctx: RequestContext, name: str, records: list[FeedbackRecord]) -> FeedbackReceipt:
    """Store ground-truth labels for answered requests (a label posted again replaces it)."""
    if not records:
        raise InvalidInput("send at least one record", field="records")
    if len(records) > MAX_FEEDBACK:
        raise InvalidInput(f"at most {MAX_FEEDBACK} records per call", field="records")
    latest: dict[str, Any] = {}
    for i, record in enumerate(records):
        if not record.request_id or len(record.request_id) > 64:
            raise InvalidInput("must be 1 to 64 characters", field=f"records.{i}.request_id")
        if record.label is None:
            raise InvalidInput("a label is required", field=f"records.{i}.label")
        latest[record.request_id] = record.label
    with ctx.platform.db.session() as session:
        find_endpoint(session, name)
        ids = list(latest)
        existing: set[str] = set()
        for start in range(0, len(ids), 500):
            existing.update(
                session.scalars(
                    sa.select(et.Feedback.request_id).where(
                        et.Feedback.endpoint == name,
                        et.Feedback.request_id.in_(ids[start : start + 500]),
                    )
                )
            )
        for request_id, label in latest.items():
            if request_id in existing:
                row = session.get(et.Feedback, (name, request_id))
                assert row is not None
                row.label = label
            else:
                session.add(et.Feedback(endpoint=name, request_id=request_id, label=label))
    return FeedbackReceipt(endpoint=name, accepted=len(latest), replaced=len(existing))


def _task(ctx: RequestContext, name: str) -> str:
    with ctx.platform.db.session() as session:
        row = find_endpoint(session, name)
        version = session.get(t.ModelVersion, row.model_version_id)
        assert version is not None
        return ModelSignature.model_validate(version.signature).task


def _classification_quality(
    pairs: list[tuple[Any, Any]], confidence: float
) -> tuple[VariantQuality, int]:
    correct = sum(normalize_label(p) == normalize_label(y) for p, y in pairs)
    low, high = wilson_interval(correct, len(pairs), confidence)
    quality = VariantQuality(
        metric="accuracy",
        n=len(pairs),
        value=correct / len(pairs),
        ci_low=low,
        ci_high=high,
        interval="wilson",
    )
    return quality, correct


def _errors(pairs: list[tuple[Any, Any]]) -> np.ndarray:
    values = [(as_number(p), as_number(y)) for p, y in pairs]
    return np.array([p - y for p, y in values if p is not None and y is not None], dtype=float)


def _verdict(variant: str, baseline: str, metric: str, p_value: float, diff: float) -> str:
    better = (diff > 0) == (metric == "accuracy")
    if p_value < 0.05:
        return (
            f"{variant} is significantly {'better' if better else 'worse'} than {baseline} "
            f"on {metric} (p={p_value:.3g} < 0.05)"
        )
    return f"no significant difference in {metric} from {baseline} (p={p_value:.3g} ≥ 0.05)"


def quality_results(
    labelled: LabelledPairs, task: str, baseline: str | None, confidence: float
) -> tuple[dict[str, VariantQuality], list[VariantComparison]]:
    """Per-variant quality and, against the baseline, a significance test for each other variant."""
    qualities: dict[str, VariantQuality] = {}
    correct: dict[str, int] = {}
    errors: dict[str, np.ndarray] = {}
    for variant, pairs in labelled.pairs.items():
        if not pairs:
            continue
        if task == "classification":
            qualities[variant], correct[variant] = _classification_quality(pairs, confidence)
            continue
        found = _errors(pairs)
        if len(found):
            errors[variant] = found
            low, high = bootstrap_rmse_interval(found, confidence)
            qualities[variant] = VariantQuality(
                metric="rmse",
                n=len(found),
                value=rmse(found),
                ci_low=low,
                ci_high=high,
                interval="bootstrap",
            )
    if baseline not in qualities:
        baseline = max(qualities, key=lambda v: qualities[v].n, default=None)
    comparisons = []
    for variant, quality in qualities.items():
        if baseline is None or variant == baseline:
            continue
        base = qualities[baseline]
        if quality.metric == "accuracy":
            test = "two-proportion z-test"
            result = two_proportion_z_test(
                correct[variant], quality.n, correct[baseline], base.n, confidence
            )
        else:
            test = "bootstrap"
            result = bootstrap_rmse_difference(errors[variant], errors[baseline], confidence)
        comparisons.append(
            VariantComparison(
                variant=variant,
                baseline=baseline,
                metric=quality.metric,
                difference=result.difference,
                ci_low=result.low,
                ci_high=result.high,
                p_value=result.p_value,
                significant=result.p_value < 0.05,
                test=test,
                statement=_verdict(
                    variant, baseline, quality.metric, result.p_value, result.difference
                ),
            )
        )
    return qualities, comparisons


MAX_SINCE_SECONDS = 10 * 365.25 * 86_400


@operation("endpoints:DescribeEndpoint", _endpoint_resource, mutating=False)
def compare_variants(
    ctx: RequestContext, name: str, since_seconds: float | None = None, confidence: float = 0.95
) -> CompareReport:
    """Per variant: requests, error rate, latency p50/p95/p99, and quality once labels exist."""
    if since_seconds is not None and not 0 < since_seconds <= MAX_SINCE_SECONDS:
        raise InvalidInput(
            f"must be more than 0 and at most {MAX_SINCE_SECONDS:.0f} seconds (10 years)",
            field="since_seconds",
        )
    if not 0.5 <= confidence < 1:
        raise InvalidInput("must be at least 0.5 and below 1", field="confidence")
    since = epoch_seconds() - since_seconds if since_seconds is not None else None
    with ctx.platform.db.session() as session:
        info = endpoint_info(session, find_endpoint(session, name))
        live = variant_metrics(session, name, since=since)
    task = _task(ctx, name)
    since_hour = (
        datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%dT%H") if since is not None else None
    )
    labelled = labelled_pairs(ctx.platform, name, since_hour)
    main = max(
        (v for v in info.variants if v.role == "production"), key=lambda v: v.weight, default=None
    )
    qualities, comparisons = quality_results(
        labelled, task, main.name if main else None, confidence
    )
    current = {v.name: v for v in info.variants}
    reports = []
    for variant in sorted(
        set(live) | set(qualities) | set(current), key=lambda n: (n not in current, n)
    ):
        known = current.get(variant)
        reports.append(
            VariantReport(
                name=variant,
                role=known.role if known else None,
                model_ref=known.model_ref if known else None,
                traffic_percent=known.traffic_percent if known else None,
                live=live.get(variant) or VariantMetrics(variant=variant),
                quality=qualities.get(variant),
            )
        )
    note = ""
    if not labelled.labelled:
        note = "no feedback yet: post labels with `shipyard endpoints feedback` or POST /feedback"
    elif not labelled.matched:
        note = "no feedback request id was found in the captured requests (is capture on?)"
    return CompareReport(
        endpoint=name,
        since=datetime.fromtimestamp(since, UTC) if since is not None else None,
        task=task,
        metric="accuracy" if task == "classification" else "rmse",
        confidence=confidence,
        labelled=labelled.labelled,
        matched=labelled.matched,
        baseline=comparisons[0].baseline if comparisons else (main.name if main else None),
        variants=reports,
        comparisons=comparisons,
        note=note,
    )
