"""Adaptive micro-batching: concurrent requests to one model become one vectorised call.

A request joins the batcher's queue; the first one arms a flush, which takes
every request queued by the time it runs (up to ``max_batch_size`` rows): on
the next turn of the event loop when batches run inline, at once when they run
in a thread (later requests queue while it works). So a lone request is not
delayed, and under load a batch is whatever arrived while the previous one ran.
The flush waits longer (up to ``max_wait_ms``) only when measured costs say it
pays: the model's fixed cost per call dominates its cost per row, and requests
arrive often enough that another is expected within the wait.

Batching is kept only while it pays: the batcher measures what a call costs at
each batch size, and when one call per request is cheaper per row than one
call for the batch (LightGBM's single-row fast path, say), requests are
predicted alone at once, with no queue, and a batch is tried now and then to
notice when that changes.
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
Queued = tuple[np.ndarray, asyncio.Future[Prediction]]
_ALPHA = 0.05
_WARMUP_CALLS = 20
_MIN_SAMPLES = 3
_DOWN = 0.25
_PROBE_EVERY = 256
"""Every this many requests predicted alone form one batch (and every this many batches one
request of a batch is predicted alone), so that both costs stay measured."""


@dataclass(frozen=True)
class BatchingSettings:
    """Micro-batching bounds for one endpoint; ``in_thread`` runs batches off the event loop."""

    enabled: bool = False
    max_batch_size: int = 32
    max_wait_ms: float = 2.0
    in_thread: bool = False


class _SizeCost:
    """Weighted seconds and rows of the calls of one size class, near their lower envelope.

    A call that lost its core to another process measures long: such samples are
    capped at twice the estimate, and shorter samples pull it down faster, so the
    estimate tracks the model's own cost on a busy machine.
    """

    __slots__ = ("rows", "samples", "seconds")

    def __init__(self) -> None:
        self.samples = 0
        self.rows = 0.0
        self.seconds = 0.0

    def add(self, rows: int, seconds: float) -> None:
        a = _ALPHA if self.samples >= _WARMUP_CALLS else 1.0 / (self.samples + 1)
        if self.samples:
            if seconds < self.seconds:
                a = max(a, _DOWN)
            seconds = min(seconds, 2 * self.seconds)
        self.rows += a * (rows - self.rows)
        self.seconds += a * (seconds - self.seconds)
        self.samples += 1


class CostModel:
    """Exponentially weighted estimates of a call's cost by batch size, and of arrival gaps.

    Fixed and per-row costs come from a weighted least-squares line through
    (rows, seconds) of recent calls; the cost per row at each power-of-two size
    class is kept apart, since a model's cost need not be a line (a single-row
    fast path, a per-call thread pool).
    """

    def __init__(self) -> None:
        self.calls = 0
        self.gap = 1.0
        self._last = 0.0
        self._n = 1.0
        self._t = 0.0
        self._nn = 1.0
        self._nt = 0.0
        self._sizes: list[_SizeCost] = []

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
        size = rows.bit_length() - 1
        while len(self._sizes) <= size:
            self._sizes.append(_SizeCost())
        self._sizes[size].add(rows, seconds)

    def estimate(self) -> tuple[float, float]:
        """(fixed seconds per call, seconds per row)."""
        spread = self._nn - self._n * self._n
        per_row = max((self._nt - self._n * self._t) / spread, 0.0) if spread > 1e-6 else 0.0
        return max(self._t - per_row * self._n, 0.0), per_row

    def samples(self, rows: int) -> int:
        """How many calls of about ``rows`` rows were measured."""
        size = rows.bit_length() - 1
        return self._sizes[size].samples if 0 <= size < len(self._sizes) else 0

    def row_cost(self, rows: int) -> float | None:
        """Measured seconds per row of a call with about ``rows`` rows; None until measured."""
        if self.samples(rows) < _MIN_SAMPLES:
            return None
        found = self._sizes[rows.bit_length() - 1]
        return found.seconds / found.rows

    def batching_pays(self, rows: int) -> bool:
        """Whether one call for ``rows`` rows costs less than a single-row call per row.

        True while either cost is unmeasured: batching is the default, and measuring.
        """
        alone, together = self.row_cost(1), self.row_cost(rows)
        return alone is None or together is None or together < alone

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
        self._queue: deque[Queued] = deque()
        self._queued_rows = 0
        self._armed = False
        self._timer: asyncio.TimerHandle | None = None
        self.cost = CostModel()
        self.solo = False
        """Whether requests are predicted alone, because batching costs more than it saves."""
        self._solo_requests = 0
        self._flushes = 0
        self.batches = 0
        self.rows = 0

    async def predict(self, features: np.ndarray) -> Prediction:
        """The prediction for ``features``, computed with whatever else is queued."""
        if self.solo and not self._armed:
            self._solo_requests += 1
            if self._solo_requests % _PROBE_EVERY:
                if self.settings.in_thread:
                    return await self._alone_in_thread(features)
                return self._alone(self._one(features), len(features))
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Prediction] = loop.create_future()
        self._queue.append((features, future))
        self._queued_rows += len(features)
        self.cost.arrival(perf_counter())
        if not self._armed:
            self._armed = True
            wait = 0.0 if self.solo else self.cost.wait_seconds(self._max_wait)
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

    async def _alone_in_thread(self, features: np.ndarray) -> Prediction:
        loop = asyncio.get_running_loop()
        return self._alone(await loop.run_in_executor(None, self._one, features), len(features))

    def _alone(self, outcome: Outcome, rows: int) -> Prediction:
        """A request's own call, as if no batcher were there: counted, and raised if it failed."""
        self.batches += 1
        self.rows += rows
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def _take(self) -> list[Queued]:
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
            self._finish(loop, batch, self._run(inputs, self.solo))
            return
        running = loop.run_in_executor(None, self._run, inputs, self.solo)
        running.add_done_callback(lambda done: self._finish(loop, batch, done.result()))

    def _finish(
        self,
        loop: asyncio.AbstractEventLoop,
        batch: list[Queued],
        done: tuple[list[Outcome], int],
    ) -> None:
        outcomes, calls = done
        rows = sum(len(features) for features, _ in batch)
        self.batches += calls
        self.rows += rows
        _settle(batch, outcomes)
        if len(batch) > 1:
            self.solo = not self.cost.batching_pays(rows)
        if self._queue:
            loop.call_soon(self._flush, loop)
        else:
            self._armed = False

    def _run(self, inputs: list[np.ndarray], probe: bool) -> tuple[list[Outcome], int]:
        """One outcome per input and the model calls made: one call, or one per input.

        Each input gets its own call when that is measured to be cheaper (unless
        this batch is the ``probe`` that measures batching again), and the first
        input of every ``_PROBE_EVERY``-th batch (and of the first batches) does,
        to keep measuring single calls. A failed batch is retried one input at a time.
        """
        if len(inputs) > 1 and not probe:
            self._flushes += 1
            rows = sum(len(features) for features in inputs)
            if not self.cost.batching_pays(rows):
                return [self._one(features) for features in inputs], len(inputs)
            if self._flushes % _PROBE_EVERY == 1 or self.cost.samples(1) < _WARMUP_CALLS:
                outcomes, calls = self._together(inputs[1:])
                return [self._one(inputs[0]), *outcomes], calls + 1
        return self._together(inputs)

    def _together(self, inputs: list[np.ndarray]) -> tuple[list[Outcome], int]:
        if len(inputs) == 1:
            return [self._one(inputs[0])], 1
        matrix = np.concatenate(inputs)
        started = perf_counter()
        try:
            prediction = self._predict(matrix)
        except Exception:
            return [self._one(features) for features in inputs], len(inputs) + 1
        self.cost.observe(len(matrix), perf_counter() - started)
        return _split(prediction, [len(features) for features in inputs]), 1

    def _one(self, features: np.ndarray) -> Outcome:
        started = perf_counter()
        try:
            prediction = self._predict(features)
        except Exception as exc:
            return exc
        self.cost.observe(len(features), perf_counter() - started)
        return prediction


def _settle(batch: list[Queued], outcomes: list[Outcome]) -> None:
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
