"""The pruning-savings estimate, on trials whose rounds and times are known exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import optuna
import pytest

from shipyard.tuning._savings import pruning_savings

T0 = datetime(2026, 1, 1, tzinfo=UTC)
State = optuna.trial.TrialState


def _trial(number: int, state: State, rounds: int, seconds: float) -> optuna.trial.FrozenTrial:
    return optuna.trial.FrozenTrial(
        number=number,
        state=state,
        value=0.5 if state == State.COMPLETE else None,
        datetime_start=T0,
        datetime_complete=T0 + timedelta(seconds=seconds),
        params={},
        distributions={},
        user_attrs={},
        system_attrs={},
        intermediate_values={step: 0.5 for step in range(1, rounds + 1)},
        trial_id=number,
    )


def test_pruned_rounds_times_the_mean_seconds_per_round_of_complete_trials() -> None:
    trials = [
        _trial(0, State.COMPLETE, rounds=40, seconds=8.0),  # 0.2 s a round
        _trial(1, State.COMPLETE, rounds=20, seconds=8.0),  # 0.4 s a round
        _trial(2, State.PRUNED, rounds=10, seconds=3.0),  # 30 - 10 rounds not run
        _trial(3, State.PRUNED, rounds=5, seconds=1.5),  # 30 - 5
    ]
    saved = pruning_savings(trials, price_cpu_hour=3.6, currency="EUR")
    assert saved.pruned_trials == 2
    assert saved.rounds_saved == pytest.approx(45)
    assert saved.seconds_per_round == pytest.approx(0.3)
    assert saved.cpu_seconds_saved == pytest.approx(13.5)
    assert saved.share_saved == pytest.approx(13.5 / (13.5 + 20.5))
    assert saved.cost_saved == pytest.approx(13.5 / 3600 * 3.6)
    assert "2 trial(s)" in saved.sentence() and "EUR" in saved.sentence()


def test_nothing_pruned_saves_nothing() -> None:
    saved = pruning_savings([_trial(0, State.COMPLETE, 10, 1.0)], 1.0, "USD")
    assert saved.pruned_trials == 0 and saved.cpu_seconds_saved == 0
    assert saved.sentence().startswith("Pruning saved nothing")
