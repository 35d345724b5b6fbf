"""Checking a training spec completely before any data is read, and against a dataset's columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from shipyard.errors import InvalidInput
from shipyard.training._allowlist import TEXT_ESTIMATOR
from shipyard.training._estimators import BuiltEstimator, build_estimator
from shipyard.training._metrics import resolve_metrics
from shipyard.training._preprocess import check_roles

if TYPE_CHECKING:
    from shipyard.training._spec import TrainingSpec

WARM_START_FLAVORS = ("lightgbm", "xgboost")
_NATIVE = (
    "LightGBM and XGBoost take categories, missing values and timestamps natively; "
    "preprocessing options, including role text (TF-IDF), apply to scikit-learn "
    "estimators (leave the section out)"
)


def check_spec(spec: TrainingSpec) -> BuiltEstimator:
    """Raise InvalidInput naming the field of the first problem; return the unfitted estimator."""
    if spec.features is not None and spec.target in spec.features:
        raise InvalidInput(
            f"the target column {spec.target!r} cannot also be a feature", field="features"
        )
    resolve_metrics(spec.task, spec.metrics)
    built = build_estimator(spec.estimator, spec.params, spec.task, spec.split.seed)
    _check_preprocessing(spec, built.flavor)
    if spec.init_model is not None and built.flavor not in WARM_START_FLAVORS:
        raise InvalidInput(
            f"{spec.estimator} cannot continue from a registered model; init_model works "
            "with the LightGBM and XGBoost estimators",
            field="init_model",
        )
    return built


def check_columns(spec: TrainingSpec, types: Mapping[str, str]) -> None:
    """Check the spec's roles and id column against a dataset's column types (name -> type,
    as in its schema), so a job can be refused before it starts."""
    features = spec.features or [name for name in types if name != spec.target]
    if spec.estimator == TEXT_ESTIMATOR:
        _check_text_column(features, types)
    check_roles(spec.preprocessing, {name: types[name] for name in features if name in types})
    if spec.split.id_column is not None and spec.split.id_column not in types:
        raise InvalidInput(
            f"column {spec.split.id_column!r} is not in the dataset", field="split.id_column"
        )


def _check_text_column(features: list[str], types: Mapping[str, str]) -> None:
    kinds = {name: types.get(name) for name in features}
    if len(features) != 1 or next(iter(kinds.values())) != "string":
        raise InvalidInput(
            f"{TEXT_ESTIMATOR} reads exactly one text (string) column, but the features are "
            f"{kinds}; name the text column in features:",
            field="features",
        )


def _check_preprocessing(spec: TrainingSpec, flavor: str) -> None:
    preprocessing = spec.preprocessing
    if not preprocessing.customized:
        return
    if flavor == "text":
        raise InvalidInput(
            f"{TEXT_ESTIMATOR} reads its text column as is; preprocessing options apply to "
            "scikit-learn estimators (leave the section out)",
            field="preprocessing",
        )
    if flavor != "sklearn":
        raise InvalidInput(_NATIVE, field="preprocessing")
    if preprocessing.mode == "none":
        raise InvalidInput(
            "preprocessing: none takes no other options; use auto to set roles and options",
            field="preprocessing.mode",
        )
    for column in preprocessing.roles:
        field = f"preprocessing.roles.{column}"
        if column == spec.target:
            raise InvalidInput("the target column takes no role", field=field)
        if spec.features is not None and column not in spec.features:
            raise InvalidInput(f"column {column!r} is not among the spec's features", field=field)
