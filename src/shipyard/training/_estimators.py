"""Building an unfitted estimator from a spec, checking every name and parameter first."""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from shipyard.errors import InvalidInput
from shipyard.flavors import SUPPORTED_OBJECTIVES, Task
from shipyard.flavors._formats import require_text_extra
from shipyard.training._allowlist import ESTIMATORS, PIPELINE, EstimatorEntry

_ROLE_OF_TASK = {"classification": "classifier", "regression": "regressor"}
_PARAMETER_IN_MESSAGE = re.compile(r"The '(\w+)' parameter")


@dataclass(frozen=True)
class BuiltEstimator:
    """An unfitted estimator with its flavor and the parameters it was given."""

    estimator: Any
    flavor: str
    params: dict[str, Any]
    allows_nan: bool


def build_estimator(name: str, params: Mapping[str, Any], task: Task, seed: int) -> BuiltEstimator:
    """Check ``name`` and ``params`` against the allowlist and return the unfitted estimator."""
    if name == PIPELINE:
        return _build_pipeline(params, task, seed)
    entry = _lookup(name, "estimator")
    _check_role(entry, task, "estimator")
    if entry.flavor == "text":
        require_text_extra("estimator")
    estimator, used = _instantiate(entry, params, seed, "params")
    allows_nan = entry.flavor != "sklearn" or _allows_nan(estimator)
    if entry.calibrated:
        estimator = CalibratedClassifierCV(estimator, ensemble=False)
    return BuiltEstimator(estimator, entry.flavor, used, allows_nan)


def _build_pipeline(params: Mapping[str, Any], task: Task, seed: int) -> BuiltEstimator:
    for key in params:
        if key != "steps":
            raise InvalidInput("a pipeline takes only 'steps'", field=f"params.{key}")
    steps = params.get("steps")
    if not isinstance(steps, list) or not steps:
        raise InvalidInput("a pipeline needs a non-empty list of steps", field="params.steps")
    built: list[Any] = []
    used: list[dict[str, Any]] = []
    for i, step in enumerate(steps):
        prefix = f"params.steps[{i}]"
        if not isinstance(step, Mapping):
            raise InvalidInput("each step is a mapping with 'estimator' and 'params'", field=prefix)
        for key in step:
            if key not in ("estimator", "params"):
                raise InvalidInput(f"unknown step key {key!r}", field=f"{prefix}.{key}")
        step_params = step.get("params") or {}
        if not isinstance(step_params, Mapping):
            raise InvalidInput("step params must be a mapping", field=f"{prefix}.params")
        entry = _lookup(step.get("estimator"), f"{prefix}.estimator")
        if entry.flavor != "sklearn":
            raise InvalidInput(
                f"{entry.name} cannot be a pipeline step; steps are scikit-learn estimators",
                field=f"{prefix}.estimator",
            )
        if i == len(steps) - 1:
            _check_role(entry, task, f"{prefix}.estimator")
        elif entry.role != "transformer":
            raise InvalidInput(
                f"{entry.name} is not a transformer; only the last step may be a model",
                field=f"{prefix}.estimator",
            )
        estimator, step_used = _instantiate(entry, step_params, seed, f"{prefix}.params")
        built.append(
            CalibratedClassifierCV(estimator, ensemble=False) if entry.calibrated else estimator
        )
        used.append({"estimator": entry.name, "params": step_used})
    return BuiltEstimator(make_pipeline(*built), "sklearn", {"steps": used}, _allows_nan(built[0]))


def _lookup(name: Any, field: str) -> EstimatorEntry:
    if not isinstance(name, str) or not name:
        raise InvalidInput("an estimator name is required", field=field)
    entry = ESTIMATORS.get(name)
    if entry is None:
        hint = _hint(name, [*ESTIMATORS, PIPELINE]) or (
            f"; choose one of the {len(ESTIMATORS)} allowlisted estimators "
            "(shipyard.training.ESTIMATORS) or 'sklearn.pipeline'"
        )
        raise InvalidInput(f"unknown estimator {name!r}{hint}", field=field)
    return entry


def _check_role(entry: EstimatorEntry, task: Task, field: str) -> None:
    wanted = _ROLE_OF_TASK[task]
    if entry.role == wanted:
        return
    swap = ("Regressor", "Classifier") if wanted == "classifier" else ("Classifier", "Regressor")
    counterpart = ESTIMATORS.get(entry.name.replace(*swap))
    advice = (
        f"use {counterpart.name!r}"
        if counterpart is not None and counterpart.role == wanted
        else f"choose a {wanted}"
    )
    raise InvalidInput(
        f"{entry.name} is a {entry.role}, but the task is {task}; {advice}", field=field
    )


def _instantiate(
    entry: EstimatorEntry, params: Mapping[str, Any], seed: int, prefix: str
) -> tuple[Any, dict[str, Any]]:
    cls = getattr(importlib.import_module(entry.module), entry.class_name)
    known = set(cls().get_params(deep=False)) | entry.extra_params
    for key, value in params.items():
        field = f"{prefix}.{key}"
        if not isinstance(key, str) or key not in known:
            raise InvalidInput(
                f"{entry.name} has no parameter {key!r}{_hint(str(key), known)}", field=field
            )
        if key in entry.forbidden:
            raise InvalidInput(
                f"{key!r} cannot be set for {entry.name}: {entry.reason}", field=field
            )
        if key in entry.forced and value != entry.forced[key]:
            raise InvalidInput(
                f"{key!r} must be {entry.forced[key]!r} for {entry.name}: {entry.reason}",
                field=field,
            )
    _check_objective(entry, params, prefix)
    used = {**params, **entry.forced}
    if "random_state" in known and "random_state" not in params:
        used["random_state"] = seed
    if entry.flavor in ("lightgbm", "xgboost") and "n_jobs" not in params:
        used["n_jobs"] = 1
    estimator = cls(**used)
    validate = getattr(estimator, "_validate_params", None)
    if entry.flavor in ("sklearn", "text") and callable(validate):
        try:
            validate()
        except InvalidParameterError as exc:
            raise invalid_parameter(exc, prefix) from exc
    return estimator, used


def _check_objective(entry: EstimatorEntry, params: Mapping[str, Any], prefix: str) -> None:
    if entry.flavor not in SUPPORTED_OBJECTIVES or "objective" not in params:
        return
    task: Task = "classification" if entry.role == "classifier" else "regression"
    allowed = SUPPORTED_OBJECTIVES[entry.flavor][task]
    if params["objective"] not in allowed:
        raise InvalidInput(
            f"objective {params['objective']!r} is not supported for {entry.name}; "
            f"choose one of {sorted(allowed)}",
            field=f"{prefix}.objective",
        )


def invalid_parameter(exc: InvalidParameterError, prefix: str) -> InvalidInput:
    """Translate scikit-learn's parameter error into one that names the spec field."""
    match = _PARAMETER_IN_MESSAGE.search(str(exc))
    field = f"{prefix}.{match.group(1)}" if match else prefix
    return InvalidInput(str(exc), field=field)


def _allows_nan(estimator: Any) -> bool:
    tags = getattr(estimator, "__sklearn_tags__", None)
    return bool(tags().input_tags.allow_nan) if callable(tags) else False


def _hint(word: str, candidates: Iterable[str]) -> str:
    options = list(candidates)
    tail = word.rsplit(".", 1)[-1].lower()
    matches = [c for c in options if c.rsplit(".", 1)[-1].lower() == tail]
    matches += [m for m in difflib.get_close_matches(word, options, n=3) if m not in matches]
    return f"; did you mean {', '.join(repr(m) for m in matches[:3])}?" if matches else ""
