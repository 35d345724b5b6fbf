"""The micro-batcher batches only while it pays, measured per batch size, and stays correct."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from servingkit import FAIL_MARKER, stored_predictor

from shipyard.flavors import Prediction, Predictor
from shipyard.serving import BatchingSettings, CostModel, MicroBatcher


class ShapedCostPredictor(Predictor):
    """A real model whose calls take extra time by size: a fixed pause for any multi-row call.

    ``batch_pause`` makes a batched call dearer than single calls (as LightGBM's
    single-row fast path is next to its batch call); ``call_pause`` on every call
    makes batching pay. Records the size of every call.
    """

    def __init__(self, inner: Predictor, *, call_pause: float, batch_pause: float) -> None:
        super().__init__(inner.model, inner.signature)
        self.inner = inner
        self.flavor = inner.flavor  # type: ignore[misc]
        self.call_pause = call_pause
        self.batch_pause = batch_pause
        self.sizes: list[int] = []

    def predict(self, features: np.ndarray | pd.DataFrame) -> Prediction:
        matrix = np.asarray(features)
        self.sizes.append(len(matrix))
        time.sleep(self.call_pause + (self.batch_pause if len(matrix) > 1 else 0.0))
        if (matrix[:, 0] == FAIL_MARKER).any():
            raise RuntimeError("the model cannot handle this row")
        return self.inner.predict(features)


async def _waves(batcher: MicroBatcher, rows: np.ndarray, waves: int) -> list[Any]:
    """``waves`` rounds of concurrent single-row requests, one per row; outcomes in order."""
    outcomes: list[Any] = []
    for _ in range(waves):
        outcomes += await asyncio.gather(
            *(batcher.predict(rows[i : i + 1]) for i in range(len(rows))), return_exceptions=True
        )
    return outcomes


def test_size_classes_tell_a_single_row_fast_path_from_a_model_that_batches_well() -> None:
    fast_single = CostModel()
    batches_well = CostModel()
    for _ in range(30):
        fast_single.observe(1, 6e-6)
        fast_single.observe(24, 300e-6)
        batches_well.observe(1, 60e-6)
        batches_well.observe(24, 40e-6)
    assert fast_single.row_cost(1) == pytest.approx(6e-6)
    assert fast_single.row_cost(24) == pytest.approx(300e-6 / 24)
    assert not fast_single.batching_pays(24)
    assert batches_well.batching_pays(24)
    assert batches_well.batching_pays(8)  # size class 8-15 not measured yet: batch and measure
    assert CostModel().batching_pays(32)


def test_a_call_that_lost_its_core_does_not_flip_the_decision() -> None:
    model = CostModel()
    for _ in range(30):
        model.observe(1, 60e-6)
        model.observe(24, 40e-6)
    steady = model.row_cost(24)
    assert steady is not None
    model.observe(24, 50e-3)  # preempted for 50 ms
    after = model.row_cost(24)
    assert after is not None and after <= 2 * steady
    assert model.batching_pays(24)
    for _ in range(5):
        model.observe(24, 40e-6)
    back = model.row_cost(24)
    assert back is not None and back < 1.1 * steady


def test_requests_are_predicted_alone_once_batches_cost_more_per_row(
    booster: Any, cancer: tuple[pd.DataFrame, np.ndarray], cancer_signature: Any
) -> None:
    inner = stored_predictor(booster, cancer_signature)
    predictor = ShapedCostPredictor(inner, call_pause=0.0, batch_pause=0.02)
    batcher = MicroBatcher(predictor.predict, BatchingSettings(enabled=True, max_batch_size=16))
    rows = cancer[0].to_numpy()[:8]

    outcomes = asyncio.run(_waves(batcher, rows, 40))

    assert batcher.solo
    expected = inner.predict(rows)
    for i, outcome in enumerate(outcomes):
        assert isinstance(outcome, Prediction)
        assert outcome.predictions.tolist() == expected.predictions[i % 8 : i % 8 + 1].tolist()
    late = predictor.sizes[-40:]
    assert late.count(1) >= 32  # mostly one call per request now, bar a probe batch
    assert batcher.rows == len(outcomes)
    assert batcher.batches == len(predictor.sizes)


def test_a_model_with_a_costly_call_keeps_batching_and_failures_stay_per_request(
    booster: Any, cancer: tuple[pd.DataFrame, np.ndarray], cancer_signature: Any
) -> None:
    inner = stored_predictor(booster, cancer_signature)
    predictor = ShapedCostPredictor(inner, call_pause=0.002, batch_pause=0.0)
    batcher = MicroBatcher(predictor.predict, BatchingSettings(enabled=True, max_batch_size=16))
    rows = cancer[0].to_numpy()[:8].copy()
    rows[3, 0] = FAIL_MARKER

    outcomes = asyncio.run(_waves(batcher, rows, 40))

    assert not batcher.solo
    assert max(predictor.sizes[-10:]) > 1
    expected = inner.predict(np.delete(rows, 3, axis=0))
    good = iter(range(7))
    for i, outcome in enumerate(outcomes[:8]):
        if i == 3:
            assert isinstance(outcome, RuntimeError)
            continue
        j = next(good)
        assert isinstance(outcome, Prediction)
        assert np.allclose(outcome.probabilities, expected.probabilities[j : j + 1])
    assert sum(isinstance(o, RuntimeError) for o in outcomes) == 40


def test_predicting_alone_in_a_thread_gives_the_same_answers(
    booster: Any, cancer: tuple[pd.DataFrame, np.ndarray], cancer_signature: Any
) -> None:
    inner = stored_predictor(booster, cancer_signature)
    predictor = ShapedCostPredictor(inner, call_pause=0.0, batch_pause=0.02)
    settings = BatchingSettings(enabled=True, max_batch_size=16, in_thread=True)
    batcher = MicroBatcher(predictor.predict, settings)
    rows = cancer[0].to_numpy()[:8]

    outcomes = asyncio.run(_waves(batcher, rows, 40))

    assert batcher.solo
    expected = inner.predict(rows)
    for i, outcome in enumerate(outcomes):
        assert isinstance(outcome, Prediction)
        assert np.allclose(outcome.probabilities, expected.probabilities[i % 8 : i % 8 + 1])
