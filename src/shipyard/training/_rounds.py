"""Per-round reporting while a boosted model trains: the validation metric after each
boosting round of LightGBM or XGBoost, for tuning's pruners (estimators without rounds
report only their final value).

The reporter may raise ``StopTraining`` to end the fit early (a pruned trial).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from shipyard.errors import ShipyardError
from shipyard.training._metrics import compute_metrics

ROUND_FLAVORS = ("lightgbm", "xgboost")


class StopTraining(ShipyardError, RuntimeError):
    """Raised by a round reporter to stop a fit (the trial was pruned)."""


@dataclass(frozen=True)
class RoundReporter:
    """``report(round, value)`` gets ``metric`` on the validation rows after each round that
    ``wanted`` accepts (each scored round costs a prediction)."""

    metric: str
    report: Callable[[int, float], None]
    wanted: Callable[[int], bool] = lambda step: True


class _Scorer:
    def __init__(
        self, reporter: RoundReporter, features: Any, y_true: np.ndarray, classes: Any
    ) -> None:
        self.reporter, self.features, self.y_true, self.classes = (
            reporter,
            features,
            y_true,
            classes,
        )

    def __call__(self, round_number: int, output: np.ndarray) -> None:
        output = np.asarray(output, dtype=np.float64)
        if self.classes is not None and output.ndim == 1:
            output = np.column_stack([1.0 - output, output])
        values, _ = compute_metrics([self.reporter.metric], self.y_true, output, self.classes)
        if self.reporter.metric in values:
            self.reporter.report(round_number, float(values[self.reporter.metric]))


def round_fit_options(
    flavor: str,
    model: Any,
    reporter: RoundReporter,
    features: Any,
    y_true: np.ndarray,
    classes: Any,
) -> dict[str, Any]:
    """Extra ``fit`` keyword arguments (and model settings) that report each round."""
    score = _Scorer(reporter, features, y_true, classes)
    if flavor == "lightgbm":

        def after_round(env: Any) -> None:
            step = env.iteration + 1
            if reporter.wanted(step):
                score(step, env.model.predict(features, num_iteration=step))

        return {"callbacks": [after_round]}
    if flavor == "xgboost":
        import xgboost

        class _AfterRound(xgboost.callback.TrainingCallback):
            def after_iteration(self, booster: Any, epoch: int, evals_log: Any) -> bool:
                if reporter.wanted(epoch + 1):
                    output = booster.inplace_predict(features, iteration_range=(0, epoch + 1))
                    score(epoch + 1, output)
                return False

        model.set_params(callbacks=[_AfterRound()])
        return {}
    return {}
