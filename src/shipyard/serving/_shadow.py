"""Shadow traffic: copies of live requests answered by a shadow variant in a thread of its own.

The caller has its answer before a copy is offered; copies wait in a bounded
queue and are dropped (and counted) when it is full, so a slow or failing
shadow never touches live latency. Each shadow answer is compared with the
production answer of the same request: label agreement for classifiers,
closeness and absolute difference for regressors.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING

import numpy as np

from shipyard.flavors._base import Prediction
from shipyard.serving._enrich import EnrichedRequest
from shipyard.serving._features import Features
from shipyard.serving._formats import parse_invocation
from shipyard.serving._stats import VariantTotals
from shipyard.serving._v2 import parse_infer

if TYPE_CHECKING:
    from shipyard.serving._capture import CaptureBuffer
    from shipyard.serving._config import Variant

logger = logging.getLogger(__name__)
_RTOL = 1e-3
_ATOL = 1e-6


@dataclass(frozen=True)
class ShadowCopy:
    """A live request as the shadow needs it: input (parsed and raw) and production's answer.

    On an endpoint with online features ``enriched`` holds the request with the store's
    columns, so a shadow with another signature builds its input without a second lookup.
    """

    shadow: Variant
    production: Variant
    features: Features
    answer: Prediction
    body: bytes
    content_type: str
    protocol: str
    request_id: str
    capture_mode: str | None
    enriched: EnrichedRequest | None = None


class ShadowRunner:
    """Runs shadow copies on one daemon thread; its totals are read by the stats reporter."""

    def __init__(self, capacity: int, capture: CaptureBuffer | None = None) -> None:
        self._queue: queue.Queue[ShadowCopy | None] = queue.Queue(maxsize=capacity)
        self._capture = capture
        self._thread: threading.Thread | None = None
        self.totals: dict[str, VariantTotals] = {}
        self.dropped = 0

    def offer(self, copy: ShadowCopy) -> None:
        """Queue a copy, or drop it when the queue is full; never blocks."""
        try:
            self._queue.put_nowait(copy)
        except queue.Full:
            self.dropped += 1

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="shadow", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Finish the copies already queued (within ``timeout``), drop the rest."""
        if self._thread is None:
            return
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=timeout)
        self._thread.join(timeout)
        self._thread = None
        while True:
            try:
                if self._queue.get_nowait() is not None:
                    self.dropped += 1
            except queue.Empty:
                return

    def _run(self) -> None:
        while True:
            copy = self._queue.get()
            if copy is None:
                return
            try:
                self.run(copy)
            except Exception:
                logger.exception("shadow variant %s failed outside its model", copy.shadow.name)

    def run(self, copy: ShadowCopy) -> None:
        """Answer one copy with the shadow and compare; failures are counted, never raised."""
        shadow = copy.shadow
        totals = self.totals.get(shadow.name)
        if totals is None:
            totals = self.totals[shadow.name] = VariantTotals()
        started = perf_counter()
        try:
            features = self._features(copy)
            answer = shadow.slot.predict(features)
        except Exception as exc:
            totals.observe(perf_counter() - started, failed=True)
            logger.debug("shadow variant %s failed: %s", shadow.name, exc)
            return
        totals.observe(perf_counter() - started, failed=False)
        regression = copy.production.slot.signature.task == "regression"
        compared, agreed, difference = compare(copy.answer, answer, regression=regression)
        totals.shadow_comparisons += compared
        totals.shadow_agreements += agreed
        totals.shadow_abs_diff_sum += difference
        if copy.capture_mode is not None and self._capture is not None:
            self._capture.offer(
                copy.request_id, shadow.name, shadow.slot, features, answer, copy.capture_mode
            )

    @staticmethod
    def _features(copy: ShadowCopy) -> Features:
        slot, live = copy.shadow.slot, copy.production.slot
        same = slot.features.names == live.features.names and slot.features.types == (
            live.features.types
        )
        if same and slot.predictor.accepts_ndarray == live.predictor.accepts_ndarray:
            return copy.features
        if copy.enriched is not None:
            return copy.enriched.features_for(slot)
        if copy.protocol == "v2":
            return parse_infer(copy.body, slot.features).features
        return parse_invocation(copy.body, copy.content_type, slot.features)


def compare(
    production: Prediction, shadow: Prediction, *, regression: bool
) -> tuple[int, int, float]:
    """(rows compared, rows that agree, sum of absolute differences) of two answers.

    Regressors agree on a row when within 0.1 % (or 1e-6); classifiers when the
    labels are equal, and their difference is that of the class probabilities.
    """
    live, other = np.asarray(production.predictions), np.asarray(shadow.predictions)
    if live.shape != other.shape:
        return len(live), 0, 0.0
    if regression and live.dtype.kind in "fiu" and other.dtype.kind in "fiu":
        gap = np.abs(live.astype(np.float64) - other.astype(np.float64))
        close = gap <= _ATOL + _RTOL * np.abs(live)
        return len(live), int(close.sum()), float(gap.sum())
    agreed = int(np.sum(live.astype(object) == other.astype(object)))
    mine, theirs = production.probabilities, shadow.probabilities
    if mine is None or theirs is None or mine.shape != theirs.shape:
        return len(live), agreed, 0.0
    return len(live), agreed, float(np.abs(mine - theirs).max(axis=1).sum())
