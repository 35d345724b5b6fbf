"""Adaptive micro-batching: concurrent requests to one model become one vectorised call.

A request joins the batcher's queue; the first one arms a flush, which takes
every request queued by the time it runs (up to ``max_batch_size`` rows): on
the next turn of the event loop when batches run inline, at once when they run
in a thread (later requests queue while it works). So a lone request is not
delayed. The flush waits longer (up to ``max_wait_ms``) only when measured
costs say it pays: the model's fixed cost per call dominates its cost per row,
and requests arrive often enough that another is expected within the wait.
Under saturation no wait is needed: requests pile up while a batch runs.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter

import numpy as np

from shipyard.flavors._base import Prediction

Outcome = Prediction | BaseException
_ALPHA = 0.05
_WARMUP_CALLS = 20


@dataclass(frozen=True)
class BatchingSettings:
    """Micro-batching bounds for one endpoint; ``in_thread`` runs batches off the event loop."""

    enabled: bool = False
    max_batch_size: int = 32
    max_wait_ms: float = 2.0
    in_thread: bool = False


class CostModel:
    """Exponentially weighted estimates of a call's fixed cost, its cost per row and arrival gaps.

    Fixed and per-row costs come from a weighted least-squares line through
    (rows, seconds) of recent calls.
    """

    def __init__(self) -> None:
        self.calls = 0
        self.gap = 1.0
        self._last = 0.0
        self._n = 1.0
        self._t = 0.0
        self._nn = 1.0
        self._nt = 0.0

    def arrival(self, now: float) -> None:
        gap = now - self._last
        self._last = now
        self.gap += _ALPHA * (min(gap, 1.0) - self.gap)

    def observe(self, rows: int, seconds: float) -> None:
        a = _ALPHA if self.calls >= _WARMUP_CALLS else 1.0 / (self.calls + 1)
        self._n += a * (rows - self._n)
        self._t += a * (seconds - self._t)
        self._nn += a * (rows * rows - self._nn)
        self._nt += a * (rows * seconds - self._nt)
        self.calls += 1

    def estimate(self) -> tuple[float, float]:
        """(fixed seconds per call, seconds per row)."""
        spread = self._nn - self._n * self._n
        per_row = max((self._nt - self._n * self._t) / spread, 0.0) if spread > 1e-6 else 0.0
        return max(self._t - per_row * self._n, 0.0), per_row

    def wait_seconds(self, max_wait: float) -> float:
        """How long a new batch should wait for company: 0 unless batching measurably pays.

        The wait is at most one fixed cost (what each request that joins saves),
        and only taken when requests arrive faster than one per wait.
        """
        if max_wait <= 0 or self.calls < _WARMUP_CALLS:
            return 0.0
        fixed, per_row = self.estimate()
        wait = min(max_wait, fixed)
        if fixed <= 2 * per_row or self.gap >= wait:
            return 0.0
        return wait


class MicroBatcher:
    """Queues single requests to one model and predicts them together; runs on the event loop."""

    def __init__(self, predict: Callable[[np.ndarray], Prediction], settings: BatchingSettings):
        self._predict = predict
        self.settings = settings
        self.max_rows = settings.max_batch_size
        self._max_wait = settings.max_wait_ms / 1000.0
        self._queue: deque[tuple[np.ndarray, asyncio.Future[Prediction]]] = deque()
        self._queued_rows = 0
        self._armed = False
        self._timer: asyncio.TimerHandle | None = None
        self.cost = CostModel()
        self.batches = 0
        self.rows = 0

    async def predict(self, features: np.ndarray) -> Prediction:
        """The prediction for ``features``, computed with whatever else is queued."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Prediction] = loop.create_future()
        self._queue.append((features, future))
        self._queued_rows += len(features)
        self.cost.arrival(perf_counter())
        if not self._armed:
            self._armed = True
            wait = self.cost.wait_seconds(self._max_wait)
            if wait > 0 and self._queued_rows < self.max_rows:
                self._timer = loop.call_later(wait, self._flush, loop)
            elif self.settings.in_thread:
                self._flush(loop)
            else:
                loop.call_soon(self._flush, loop)
        elif self._timer is not None and self._queued_rows >= self.max_rows:
            self._timer.cancel()
            self._timer = None
            loop.call_soon(self._flush, loop)
        return await future

    def _take(self) -> list[tuple[np.ndarray, asyncio.Future[Prediction]]]:
        batch = [self._queue.popleft()]
        rows = len(batch[0][0])
        while self._queue and rows + len(self._queue[0][0]) <= self.max_rows:
            batch.append(self._queue.popleft())
            rows += len(batch[-1][0])
        self._queued_rows -= rows
        return batch

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        if not self._queue:
            self._armed = False
            return
        batch = self._take()
        inputs = [features for features, _ in batch]
        if not self.settings.in_thread:
            self._settle(batch, self._run(inputs))
            self._next(loop)
            return
        running = loop.run_in_executor(None, self._run, inputs)
        running.add_done_callback(lambda done: self._finished(loop, batch, done))

    def _finished(
        self,
        loop: asyncio.AbstractEventLoop,
        batch: list[tuple[np.ndarray, asyncio.Future[Prediction]]],
        done: asyncio.Future[list[Outcome]],
    ) -> None:
        self._settle(batch, done.result())
        self._next(loop)

    def _next(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._queue:
            loop.call_soon(self._flush, loop)
        else:
            self._armed = False

    def _run(self, inputs: list[np.ndarray]) -> list[Outcome]:
        """One prediction per input; a failed batch is retried one input at a time."""
        rows = sum(len(features) for features in inputs)
        matrix = inputs[0] if len(inputs) == 1 else np.concatenate(inputs)
        started = perf_counter()
        try:
            prediction = self._predict(matrix)
        except Exception as exc:
            if len(inputs) == 1:
                return [exc]
            return [self._one(features) for features in inputs]
        self.cost.observe(rows, perf_counter() - started)
        self.batches += 1
        self.rows += rows
        if len(inputs) == 1:
            return [prediction]
        return _split(prediction, [len(features) for features in inputs])

    def _one(self, features: np.ndarray) -> Outcome:
        try:
            return self._predict(features)
        except Exception as exc:
            return exc

    @staticmethod
    def _settle(
        batch: list[tuple[np.ndarray, asyncio.Future[Prediction]]], outcomes: list[Outcome]
    ) -> None:
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)


def _split(prediction: Prediction, sizes: list[int]) -> list[Outcome]:
    parts: list[Outcome] = []
    start = 0
    probabilities = prediction.probabilities
    for size in sizes:
        end = start + size
        parts.append(
            Prediction(
                prediction.predictions[start:end],
                None if probabilities is None else probabilities[start:end],
            )
        )
        start = end
    return parts
