"""Checking a tuning spec's training part against the platform before a job starts: the
training spec with each searched parameter (unknown ones refused as training refuses
them), the objective among its metrics, a pruner only where rounds are reported, the
dataset version; own code's files stored by digest."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shipyard.contracts import refuse_failed_validation
from shipyard.datasets import find_version
from shipyard.errors import InvalidInput
from shipyard.jobs._training import _check_against_dataset
from shipyard.names import check_name, parse_reference
from shipyard.platform import Platform
from shipyard.schemas.job_code import check_files, parse_code_spec
from shipyard.tuning import Parameter, TuningSpec
from shipyard.tuning._spec_trial import trial_training


def _sample(p: Parameter) -> Any:
    if p.type == "categorical":
        return (p.choices or [None])[0]
    return int(p.low or 0) if p.type == "int" else float(p.low or 0)


def check_spec_training(session: Session, spec: TuningSpec) -> tuple[dict[str, Any], int]:
    """The training spec as stored, and its dataset version's id."""
    from shipyard.training import ROUND_FLAVORS, check_spec, parse_spec
    from shipyard.training._metrics import resolve_metrics

    base = {k: v for k, v in spec.training.items() if k not in ("limits", "max_runtime")}
    for name, p in spec.search_space.items():
        try:
            parse_spec(trial_training(base, {name: _sample(p)}))
        except InvalidInput as error:
            message = str(error.args[0]) if error.args else str(error)
            if error.field == f"params.{name}":
                raise InvalidInput(message, field=f"search_space.{name}") from None
            raise InvalidInput(message, field=f"training.{error.field or 'spec'}") from None
    parsed = parse_spec(
        trial_training(base, {n: _sample(p) for n, p in spec.search_space.items() if not p.when})
    )
    metrics = resolve_metrics(parsed.task, parsed.metrics)
    for index, goal in enumerate(spec.goals):
        if goal.metric not in metrics:
            field = "objective.metric" if spec.objective else f"objectives.{index}.metric"
            raise InvalidInput(
                f"{goal.metric!r} is not among the training's metrics {list(metrics)}", field=field
            )
    if spec.pruner != "none":
        flavor = check_spec(parsed).flavor
        if flavor not in ROUND_FLAVORS or parsed.split.kind != "holdout":
            raise InvalidInput(
                f"{spec.pruner} prunes on intermediate values, and {parsed.estimator} with a "
                f"{parsed.split.kind} split reports none (LightGBM and XGBoost report each "
                "boosting round on a holdout split); use pruner: none",
                field="pruner",
            )
    ref = parse_reference(parsed.dataset, field="training.dataset")
    if ref.alias is not None:
        raise InvalidInput(
            "datasets are named by version (name@3), not alias", field="training.dataset"
        )
    check_name(parsed.experiment, field="training.experiment")
    version = find_version(session, ref.name, ref.version)
    _check_against_dataset(parsed, version)
    if not parsed.force:
        refuse_failed_validation(session, version.id, f"{ref.name}@{version.version}")
    stored = parsed.model_dump(mode="json")
    stored["dataset"] = f"{ref.name}@{version.version}"
    stored["params"] = dict(base.get("params") or {})
    return stored, version.id


def check_code_training(
    platform: Platform, session: Session, spec: TuningSpec, files: dict[str, str] | None
) -> tuple[dict[str, Any], int]:
    """Own code's spec as stored (datasets by version, files by digest), and the first
    dataset version's id."""
    code = parse_code_spec(dict(spec.training))
    if code.network == "none":
        raise InvalidInput(
            "trials run in the tuning job's process; network: none is for training jobs",
            field="training.network",
        )
    sources = check_files(files or {}, code.entrypoint)
    check_name(code.experiment, field="training.experiment")
    many = code.datasets or {}
    refs = many if many else {str(code.dataset).split("@", 1)[0]: str(code.dataset)}
    versions: dict[str, str] = {}
    first: int | None = None
    for name, text in refs.items():
        ref = parse_reference(text, field="training.dataset")
        if ref.alias is not None:
            raise InvalidInput(
                "datasets are named by version (name@3), not alias", field="training.dataset"
            )
        version = find_version(session, ref.name, ref.version)
        if not code.force:
            refuse_failed_validation(session, version.id, f"{ref.name}@{version.version}")
        versions[name] = f"{ref.name}@{version.version}"
        first = first or version.id
    assert first is not None
    digests = {path: platform.blobs.put_bytes(data) for path, data in sources.items()}
    stored = code.model_dump(mode="json", exclude_none=True)
    stored |= {"datasets": versions, "code": digests}
    return stored, first
