"""The training spec: what to train, on which data, judged how. Parsed from YAML or a mapping."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shipyard.errors import InvalidInput
from shipyard.flavors import Task
from shipyard.training._check import check_spec
from shipyard.training._preprocessing_spec import OPTION_MODELS, PreprocessingSpec


class SplitSpec(BaseModel):
    """How rows are divided for evaluation: one holdout split, or k folds then a refit.

    Rows are assigned by their content (a stable hash of their values, or of
    ``id_column`` when given), never by stored order.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["holdout", "kfold"] = "holdout"
    test_size: float = Field(0.2, gt=0.0, lt=1.0)
    folds: int = Field(5, ge=2, le=100)
    seed: int = Field(0, ge=0, le=2**32 - 1)
    stratify: bool = True
    id_column: str | None = Field(None, min_length=1)


class TrainingSpec(BaseModel):
    """One training run: a dataset, a target, an allowlisted estimator and its parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    dataset: str = Field(min_length=1)
    target: str = Field(min_length=1)
    features: list[str] | None = None
    task: Task
    estimator: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    split: SplitSpec = Field(default_factory=SplitSpec)
    preprocessing: PreprocessingSpec = Field(default_factory=PreprocessingSpec)
    metrics: list[str] | None = None
    init_model: str | None = Field(None, min_length=1)
    """``NAME@VERSION`` (or an alias) of a registered LightGBM/XGBoost model to continue
    boosting from; a job stores the concrete version it resolved."""
    experiment: str = Field("default", min_length=1)
    force: bool = False

    @field_validator("features", "metrics")
    @classmethod
    def _unique_and_non_empty(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("must not be empty; leave it out for the default")
        repeated = sorted({v for v in value if value.count(v) > 1})
        if repeated:
            raise ValueError(f"lists {repeated} more than once")
        return value


def parse_spec(data: Any) -> TrainingSpec:
    """Validate a mapping as a TrainingSpec, then check estimator, params and metrics.

    Every problem is an InvalidInput naming the field, e.g. ``params.n_estimators``.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput("a training spec must be a mapping of keys to values", field="spec")
    try:
        spec = TrainingSpec.model_validate(dict(data))
    except ValidationError as exc:
        raise _first_problem(exc) from None
    check_spec(spec)
    return spec


def load_spec(path: str | Path) -> TrainingSpec:
    """Read a YAML training spec file and parse it with ``parse_spec``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read training spec {str(path)!r}: {exc}", field="spec") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidInput(f"invalid YAML{line}: {problem}", field="spec") from None
    return parse_spec(data)


_MODELS: dict[str, type[BaseModel]] = {"": TrainingSpec, "split": SplitSpec, **OPTION_MODELS}


def _first_problem(exc: ValidationError) -> InvalidInput:
    errors = exc.errors(include_url=False)
    error = errors[0]
    location = tuple(part for part in error["loc"] if part not in ("[key]", "function-before"))
    field = "".join(
        f"[{part}]" if isinstance(part, int) else (f".{part}" if i else str(part))
        for i, part in enumerate(location)
    )
    if error["type"] == "extra_forbidden":
        parent = _MODELS.get(".".join(str(p) for p in location[:-1]), TrainingSpec)
        known = list(parent.model_fields)
        close = difflib.get_close_matches(str(location[-1]), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known keys are {known}"
        message = f"unknown key {location[-1]!r}{hint}"
    elif error["type"] == "missing":
        message = "is required"
    else:
        message = error["msg"].removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return InvalidInput(message + more, field=field or "spec")
