"""Training one spec on one table: split, fit, evaluate, store, and check the stored model."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils._param_validation import InvalidParameterError

from shipyard.errors import InvalidInput, JobFailed
from shipyard.flavors import ModelSignature, artifact_digest, load_predictor, save_model
from shipyard.training._check import check_spec
from shipyard.training._data import TrainingData, prepare_data
from shipyard.training._estimators import BuiltEstimator, invalid_parameter
from shipyard.training._metrics import compute_metrics, resolve_metrics
from shipyard.training._preprocess import column_roles, preprocessing_steps
from shipyard.training._rounds import RoundReporter, StopTraining, round_fit_options
from shipyard.training._spec import TrainingSpec
from shipyard.training._split import content_order, holdout_split, kfold_splits
from shipyard.training._validation import validation_rows, validation_table
from shipyard.training._warm_start import ParentModel, check_parent

ProgressCallback = Callable[[float, str], None]
LogCallback = Callable[[str], None]


@dataclass(frozen=True)
class FitResult:
    """A trained model, stored bytes and all, with how it scored.

    ``validation`` holds the rows the model was evaluated on (features and target, at
    most ``VALIDATION_ROWS``, a seeded sample beyond that): the holdout test rows, or for
    k folds every row (each was in one fold's test set). Edge export checks converted
    models on them. ``params`` are the parameters actually used.
    """

    estimator: Any
    flavor: str
    model_bytes: bytes
    digest: str
    metrics: dict[str, float]
    signature: ModelSignature
    validation: pa.Table
    params: dict[str, Any]
    validation_split: str


def fit(
    spec: TrainingSpec,
    table: pa.Table,
    *,
    on_progress: ProgressCallback | None = None,
    log: LogCallback | None = None,
    rounds: RoundReporter | None = None,
    parent: ParentModel | None = None,
) -> FitResult:
    """Train ``spec`` on ``table``; the same spec, seed and data give the same metrics.

    With ``parent`` (the spec's ``init_model``, loaded), boosting continues from its trees.

    Rows are put in an order fixed by their content first, so the same rows stored in
    another order or partitioning give the same split, model and metrics. Raises
    InvalidInput (naming the spec field) for problems with the spec or the data, and
    JobFailed if the stored model does not reproduce the trained one. ``rounds`` gets the
    validation metric after each boosting round (LightGBM, XGBoost; holdout split only).
    """
    progress = on_progress or (lambda fraction, message: None)
    say = log or (lambda line: None)
    built = check_spec(spec)
    metric_names = resolve_metrics(spec.task, spec.metrics)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            table = _in_content_order(table, spec)
            data = prepare_data(
                table,
                spec.target,
                spec.features,
                spec.task,
                categorical=built.flavor in ("lightgbm", "xgboost"),
                categories=parent.categories if parent is not None else None,
            )
            if parent is not None:
                check_parent(parent, built.flavor, data.signature)
                say(f"continuing from {parent.ref} ({parent.flavor})")
            prototype = _prototype(built, data, spec, say)
            n_rows, n_features = table.num_rows, len(data.signature.inputs)
            say(f"training {spec.estimator} on {n_rows} rows and {n_features} features")
            progress(0.05, "data prepared")
            trainer = _Trainer(prototype, built.flavor, data, metric_names, spec.estimator, say)
            trainer.rounds = rounds
            trainer.fit_arguments = parent.fit_arguments() if parent is not None else {}
            if spec.split.kind == "holdout":
                model, metrics, held_out = trainer.holdout(spec, progress)
            else:
                model, metrics, held_out = trainer.kfold(spec, progress)
            say("metrics: " + ", ".join(f"{k}={v:.6g}" for k, v in metrics.items()))
            flavor, model_bytes = save_model(model)
            progress(0.9, f"stored as {flavor} ({len(model_bytes)} bytes)")
            digest = artifact_digest(model_bytes)
            _verify_stored((flavor, model_bytes, digest), model, held_out, trainer)
        finally:
            for line in sorted({f"warning: {w.category.__name__}: {w.message}" for w in caught}):
                say(line)
    progress(1.0, "done")
    validation = validation_table(table, data.signature, spec.target, held_out)
    return FitResult(
        model,
        flavor,
        model_bytes,
        digest,
        metrics,
        data.signature,
        validation,
        built.params,
        spec.split.kind,
    )


class _Trainer:
    """Fits clones of one prototype on row subsets and scores them."""

    def __init__(
        self,
        prototype: Any,
        flavor: str,
        data: TrainingData,
        metric_names: Sequence[str],
        label: str,
        say: LogCallback,
    ) -> None:
        self.prototype, self.flavor, self.data = prototype, flavor, data
        self.metric_names, self.label, self.say = metric_names, label, say
        self.rounds: RoundReporter | None = None
        self.fit_arguments: dict[str, Any] = {}

    def holdout(
        self, spec: TrainingSpec, progress: ProgressCallback
    ) -> tuple[Any, dict[str, float], np.ndarray]:
        train, test = holdout_split(self.data.target, spec.split, self.data.classes)
        progress(0.1, f"split {len(train)} training and {len(test)} test rows")
        model = self.fit_rows(train, watch=test)
        progress(0.8, "fitted")
        metrics = self.score(model, test)
        progress(0.85, "evaluated")
        return model, metrics, validation_rows(test, spec.split.seed)

    def kfold(
        self, spec: TrainingSpec, progress: ProgressCallback
    ) -> tuple[Any, dict[str, float], np.ndarray]:
        folds = spec.split.folds
        per_fold: list[dict[str, float]] = []
        for i, (train, test) in enumerate(
            kfold_splits(self.data.target, spec.split, self.data.classes)
        ):
            scores = self.score(self.fit_rows(train), test)
            per_fold.append(scores)
            self.say(
                f"fold {i + 1}/{folds}: " + ", ".join(f"{k}={v:.6g}" for k, v in scores.items())
            )
            progress(0.1 + 0.6 * (i + 1) / folds, f"fold {i + 1} of {folds} done")
        metrics: dict[str, float] = {}
        for name in self.metric_names:
            values = [fold[name] for fold in per_fold if name in fold]
            if values:
                metrics[name] = float(np.mean(values))
                metrics[f"{name}_std"] = float(np.std(values))
        every = np.arange(len(self.data.target))
        model = self.fit_rows(every)
        progress(0.8, "refitted on all rows")
        return model, metrics, validation_rows(every, spec.split.seed)

    def fit_rows(self, rows: np.ndarray, watch: np.ndarray | None = None) -> Any:
        """A clone fitted on ``rows``; reporting each round on ``watch`` rows when asked."""
        model = clone(self.prototype)
        y = self.data.target[rows]
        if self.flavor == "xgboost" and self.data.classes is not None:
            y = np.searchsorted(self.data.classes, y)
        options: dict[str, Any] = {}
        if self.rounds is not None and watch is not None:
            options = round_fit_options(
                self.flavor,
                model,
                self.rounds,
                self.data.rows(watch),
                self.data.target[watch],
                self.data.classes,
            )
        try:
            model.fit(self.data.rows(rows), y, **self.fit_arguments, **options)
        except StopTraining:
            raise
        except InvalidParameterError as exc:
            raise invalid_parameter(exc, "params") from exc
        except Exception as exc:  # estimator libraries raise their own types for bad params/data
            if self.flavor == "sklearn" and not isinstance(exc, ValueError):
                raise
            field = "estimator" if self.flavor == "sklearn" else "params"
            raise InvalidInput(f"{self.label} could not be trained: {exc}", field=field) from exc
        return model

    def output(self, model: Any, rows: np.ndarray) -> np.ndarray:
        features = self.data.rows(rows)
        method = model.predict_proba if self.data.classes is not None else model.predict
        return np.asarray(method(features), dtype=np.float64)

    def score(self, model: Any, rows: np.ndarray) -> dict[str, float]:
        output = self.output(model, rows)
        values, notes = compute_metrics(
            self.metric_names, self.data.target[rows], output, self.data.classes
        )
        for note in notes:
            self.say(note)
        return values


def _in_content_order(table: pa.Table, spec: TrainingSpec) -> pa.Table:
    """``table`` sorted by the content of the columns the spec uses (see ``content_order``)."""
    used = [c for c in (spec.features or table.column_names) if c in table.column_names]
    if spec.target in table.column_names and spec.target not in used:
        used.append(spec.target)
    return table.take(content_order(table, used, spec.split.id_column))


def _prototype(
    built: BuiltEstimator, data: TrainingData, spec: TrainingSpec, say: LogCallback
) -> Any:
    """The estimator to fit: scikit-learn ones behind the spec's preprocessing steps."""
    if built.flavor != "sklearn":
        return built.estimator
    if spec.preprocessing.mode == "none":
        _check_missing_values(data, built.allows_nan, spec.estimator)
        return _with_encoder(built.estimator, data)
    frame = data.features if isinstance(data.features, pd.DataFrame) else None
    roles = column_roles(data.signature, spec.preprocessing, frame)
    for name, role in roles.items():
        if role == "text" and name not in spec.preprocessing.roles:
            say(f"column {name!r} reads as free text: role text (TF-IDF)")
    steps = preprocessing_steps(data.signature, spec.preprocessing, roles)
    estimator = built.estimator
    tail = estimator.steps if isinstance(estimator, Pipeline) else [("model", estimator)]
    return Pipeline([*steps, *tail])


def _with_encoder(estimator: Any, data: TrainingData) -> Any:
    strings = [c.name for c in data.signature.inputs if c.type == "string"]
    if not strings:
        return estimator
    encoder = ColumnTransformer(
        [("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False), strings)],
        remainder="passthrough",
    )
    steps = estimator.steps if isinstance(estimator, Pipeline) else [("model", estimator)]
    return Pipeline([("encode", encoder), *steps])


def _check_missing_values(data: TrainingData, allows_nan: bool, label: str) -> None:
    if allows_nan:
        return
    numeric = [c.name for c in data.signature.inputs if c.type != "string"]
    features = data.features
    if isinstance(features, pd.DataFrame):
        holes = [n for n in numeric if features[n].isna().any()]
    else:
        holes = [n for i, n in enumerate(numeric) if np.isnan(features[:, i]).any()]
    if holes:
        raise InvalidInput(
            f"columns {holes[:10]} have missing values and {label} cannot handle them; start a "
            "sklearn.pipeline with sklearn.impute.SimpleImputer, or use an estimator that "
            "accepts missing values (HistGradientBoosting*, LightGBM, XGBoost)",
            field="features",
        )


def _verify_stored(
    stored: tuple[str, bytes, str], model: Any, rows: np.ndarray, trainer: _Trainer
) -> None:
    """Load the stored bytes as serving would, and require the trained model's outputs."""
    flavor, model_bytes, digest = stored
    if len(rows) == 0:
        return
    data = trainer.data
    predictor = load_predictor(flavor, model_bytes, data.signature, expected_digest=digest)
    prediction = predictor.predict(data.rows(rows))
    served = prediction.predictions if data.classes is None else prediction.probabilities
    trained = trainer.output(model, rows)
    if (
        served is None
        or served.shape != trained.shape
        or not np.allclose(served, trained, rtol=1e-5, atol=1e-6)
    ):
        raise JobFailed(
            f"the stored {flavor} model does not reproduce the trained model's predictions"
        )
