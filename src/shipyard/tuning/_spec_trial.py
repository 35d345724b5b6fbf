"""A spec trial: the training spec with the trial's parameters, fitted by ``training.fit``.

Rounds are watched (the validation metric after each boosting round) only when the job
prunes: scoring every round costs a prediction per round.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlalchemy.orm import Session

from shipyard.flavors import SavedModel, ValidationRows
from shipyard.platform import Platform
from shipyard.registry import store_saved_model

if TYPE_CHECKING:
    from shipyard.tuning._trial import TuningTarget

Report = Callable[[int, float], None]
SaveModel = Callable[[Session, str], None]


def trial_training(training: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The training spec with the trial's parameters over its own."""
    return {**training, "params": {**dict(training.get("params") or {}), **params}}


def train_spec(
    platform: Platform,
    target: TuningTarget,
    table: pa.Table,
    params: dict[str, Any],
    report: Report,
) -> tuple[dict[str, float], SaveModel]:
    from shipyard.training import (
        ROUND_FLAVORS,
        RoundReporter,
        TrainingSpec,
        check_spec,
        fit,
        validation_parquet,
    )

    spec = TrainingSpec.model_validate(trial_training(target.spec.training, params))
    rounds = None
    watched = target.spec.pruner != "none"
    if watched and check_spec(spec).flavor in ROUND_FLAVORS and spec.split.kind == "holdout":
        from shipyard.tuning._trial import reported_step

        rounds = RoundReporter(target.spec.goals[0].metric, report, reported_step)
    result = fit(spec, table, rounds=rounds)

    def save(session: Session, run_id: str) -> None:
        validation = validation_parquet(result.validation)
        saved = SavedModel(
            result.flavor,
            result.model_bytes,
            result.signature,
            validation=ValidationRows(
                validation, result.validation.num_rows, result.validation_split
            ),
        )
        store_saved_model(platform, session, run_id, saved)

    return {k: float(v) for k, v in result.metrics.items()}, save
