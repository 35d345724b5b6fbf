"""The evaluate step: a candidate (a run's model, before it is registered, or a model
version) and the champion scored on the same labelled data, checked against thresholds.

Absolute rules (``threshold``) hold on the candidate alone; comparison rules
(``min_absolute_change``, ``min_relative_change``) against the champion. With no champion
yet (the first run, the alias not set) only the absolute rules are checked.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shipyard.errors import InvalidInput, NotFound
from shipyard.names import parse_reference
from shipyard.pipelines._step_base import StepRun, text
from shipyard.security import Access, ResourceName


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


def run_evaluate(step: StepRun, config: dict[str, Any]) -> dict[str, Any]:
    from shipyard.datasets import find_version
    from shipyard.evaluation._evaluate import Settings, _measure
    from shipyard.evaluation._scoring import check_labelled, score_version
    from shipyard.evaluation._thresholds import MetricThreshold, checked_thresholds, validate
    from shipyard.flavors import load_predictor
    from shipyard.registry import load_version_predictor, model_version_access, resolve
    from shipyard.registry._artifact import check_run_model
    from shipyard.tracking import run_resource

    ctx = step.ctx
    data = text(config, "data") or ""
    ref = parse_reference(data, field="with.data")
    rules_given = config.get("thresholds") or {}
    if not isinstance(rules_given, dict):
        raise InvalidInput("must map metric names to rules", field="with.thresholds")
    settings = Settings(resamples=int(config.get("resamples", 0)), seed=int(config.get("seed", 0)))
    with ctx.platform.db.session() as session:
        version = find_version(session, ref.name, ref.version)
        data_ref = f"{ref.name}@{version.version}"
        ctx.authorize(
            "datasets:ReadData", ResourceName.versioned("dataset", ref.name, version.version)
        )
        candidate_run = text(config, "candidate", required=False)
        if candidate_run is not None:
            ctx.authorize("tracking:GetArtifact", run_resource(session, candidate_run))
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
            model_ref = text(config, "model") or ""
            access = model_version_access(session, model_ref, field="with.model")
            ctx.authorize(access.action, access.resource)
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
        champion = text(config, "champion", required=False)
        if champion is not None:
            try:
                _, base_row = resolve(session, parse_reference(champion, field="with.champion"))
            except NotFound:
                step.log(f"no champion {champion}: only absolute thresholds are checked")
            else:
                access = model_version_access(session, champion, field="with.champion")
                ctx.authorize(access.action, access.resource)
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
        step.log(f"{'pass' if result.passed else 'FAIL'}: {result.message}")
    step.log(f"{subject} on {data_ref}: {'passed' if passed else 'did not pass'}")
    return {
        "passed": passed,
        "metrics": metrics,
        "baseline_metrics": baseline or {},
        "rules": [r.model_dump(mode="json") for r in results],
    }


def _point(estimates: dict[str, Any]) -> dict[str, float]:
    return {k: float(m.value) for k, m in estimates.items() if m.value is not None}
