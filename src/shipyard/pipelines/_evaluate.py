"""The evaluate step: a candidate (a run's model, before it is registered, or a model
version) and the champion scored on the same labelled data, checked against thresholds.

Absolute rules (``threshold``) hold on the candidate alone; comparison rules
(``min_absolute_change``, ``min_relative_change``) against the champion. With no champion
yet (the first run, the alias not set) only the absolute rules are checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from shipyard.errors import InvalidInput, NotFound
from shipyard.names import parse_reference
from shipyard.pipelines._step_base import StepRun, text
from shipyard.security import Access, RequestContext, ResourceName, operation


def declare_evaluate(session: Session, config: dict[str, Any]) -> list[Access]:
    from shipyard.datasets import dataset_ref_resource
    from shipyard.registry import model_version_access

    found = [
        Access(
            "datasets:ReadData",
            dataset_ref_resource(session, text(config, "data") or "", field="with.data"),
        )
    ]
    for key in ("champion", "model"):
        ref = text(config, key, required=False)
        if ref is not None:
            found.append(model_version_access(session, ref, field=f"with.{key}"))
    return found


def _data_resource(session: Session, data: str) -> ResourceName:
    from shipyard.datasets import dataset_ref_resource

    return dataset_ref_resource(session, data, field="data")


def _reads(
    session: Session, candidate: str | None, model: str | None, champion: str | None
) -> list[Access]:
    from shipyard.registry import model_version_access
    from shipyard.tracking import run_resource

    found = []
    if candidate is not None:
        found.append(Access("tracking:GetArtifact", run_resource(session, candidate)))
    for key, ref in (("model", model), ("champion", champion)):
        if ref is not None:
            found.append(model_version_access(session, ref, field=key))
    return found


@operation("datasets:ReadData", _data_resource, uses=_reads, mutating=False)
def evaluate_candidate(
    ctx: RequestContext,
    data: str,
    candidate: str | None,
    model: str | None,
    champion: str | None,
    config: dict[str, Any],
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Score the candidate (a run's model, or a model version) and the champion on
    ``data``, checked against the thresholds; what the evaluate step outputs."""
    return _evaluate(ctx, data, candidate, model, champion, config, log)


def run_evaluate(step: StepRun, config: dict[str, Any]) -> dict[str, Any]:
    return evaluate_candidate(
        step.ctx,
        text(config, "data") or "",
        text(config, "candidate", required=False),
        text(config, "model", required=False),
        text(config, "champion", required=False),
        config,
        step.log,
    )


def _evaluate(
    ctx: RequestContext,
    data: str,
    candidate_run: str | None,
    model_ref: str | None,
    champion: str | None,
    config: dict[str, Any],
    log: Callable[[str], None],
) -> dict[str, Any]:
    from shipyard.datasets import find_version
    from shipyard.evaluation._evaluate import Settings, _measure
    from shipyard.evaluation._scoring import check_labelled, score_version
    from shipyard.flavors import load_predictor
    from shipyard.registry import load_version_predictor, resolve
    from shipyard.registry._artifact import check_run_model
    from shipyard.schemas.thresholds import MetricThreshold, checked_thresholds, validate

    ref = parse_reference(data, field="with.data")
    rules_given = config.get("thresholds") or {}
    if not isinstance(rules_given, dict):
        raise InvalidInput("must map metric names to rules", field="with.thresholds")
    settings = Settings(resamples=int(config.get("resamples", 0)), seed=int(config.get("seed", 0)))
    with ctx.platform.db.session() as session:
        version = find_version(session, ref.name, ref.version)
        data_ref = f"{ref.name}@{version.version}"
        if candidate_run is not None:
            checked = check_run_model(ctx.platform, session, candidate_run)
            from shipyard.flavors import ModelSignature

            predictor = load_predictor(
                checked.flavor,
                ctx.platform.blobs.get_bytes(checked.digest),
                ModelSignature.model_validate(checked.signature),
                expected_digest=checked.digest,
            )
            subject = f"run {candidate_run}"
        else:
            if model_ref is None:
                raise InvalidInput(
                    "name the candidate run or model version", field="with.candidate"
                )
            _, row = resolve(session, parse_reference(model_ref, field="with.model"))
            predictor = load_version_predictor(ctx.platform, row)
            subject = model_ref
        task = predictor.signature.task
        rules = checked_thresholds(
            {k: MetricThreshold.model_validate(v) for k, v in rules_given.items()}, task
        )
        check_labelled(data_ref, version, predictor)
        metrics = _point(
            _measure(score_version(ctx.platform, data_ref, version, predictor), task, settings)
        )
        baseline: dict[str, float] | None = None
        if champion is not None:
            try:
                _, base_row = resolve(session, parse_reference(champion, field="with.champion"))
            except NotFound:
                log(f"no champion {champion}: only absolute thresholds are checked")
            else:
                base = load_version_predictor(ctx.platform, base_row)
                scored = score_version(ctx.platform, data_ref, version, base)
                baseline = _point(_measure(scored, base.signature.task, settings))
    if baseline is None:
        rules = {k: r for k, r in rules.items() if r.threshold is not None}
        rules = {
            k: r.model_copy(update={"min_absolute_change": None, "min_relative_change": None})
            for k, r in rules.items()
        }
    results = validate(rules, metrics, baseline) if rules else []
    passed = all(r.passed for r in results)
    for result in results:
        log(f"{'pass' if result.passed else 'FAIL'}: {result.message}")
    log(f"{subject} on {data_ref}: {'passed' if passed else 'did not pass'}")
    return {
        "passed": passed,
        "metrics": metrics,
        "baseline_metrics": baseline or {},
        "rules": [r.model_dump(mode="json") for r in results],
    }


def _point(estimates: dict[str, Any]) -> dict[str, float]:
    return {k: float(m.value) for k, m in estimates.items() if m.value is not None}
