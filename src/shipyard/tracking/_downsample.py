"""A metric's history reduced on the server to at most ``max_points`` buckets for a chart.

Buckets split the run's step range evenly; each keeps its first and last step, the lowest,
highest and mean value and the count, so spikes survive (min/max) and the line is smooth
(mean). The history is read in step order from the covering index ``(run_id, key, step,
...)`` through the driver's cursor, a chunk at a time, and folded into the buckets with
numpy: memory stays at one chunk however long the history, and 100,000 points take tens
of milliseconds (a SQL ``GROUP BY`` on the bucket sorts every point again on SQLite).

A run that is no longer running takes no more metrics (``log_batch`` refuses), so its
charts are kept in a small in-process cache; the caller is authorized before it is read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
import sqlalchemy as sa

from shipyard.errors import InvalidInput
from shipyard.schemas.tracking import MetricChart
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import tables as t
from shipyard.tracking._rows import run_resource, run_row

MAX_POINTS = 5000
_CHUNK = 65_536
_CACHE_SIZE = 512
_cache: OrderedDict[tuple[str, str, str, int], MetricChart] = OrderedDict()
_cache_lock = threading.Lock()


class _Buckets:
    """Running per-bucket aggregates of points that arrive in step order."""

    def __init__(self, size: int, low: int, high: int) -> None:
        self.size, self.low, self.span = size, low, high - low + 1
        self.first = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
        self.last = np.full(size, np.iinfo(np.int64).min, dtype=np.int64)
        self.min = np.full(size, np.inf)
        self.max = np.full(size, -np.inf)
        self.sum = np.zeros(size)
        self.count = np.zeros(size, dtype=np.int64)

    def add(self, steps: np.ndarray, values: np.ndarray) -> None:
        where = ((steps - self.low) / self.span * self.size).astype(np.int64)
        where = np.clip(where, 0, self.size - 1)
        starts = np.flatnonzero(np.r_[True, where[1:] != where[:-1]])
        ends = np.r_[starts[1:], len(where)] - 1
        at = where[starts]
        self.first[at] = np.minimum(self.first[at], steps[starts])
        self.last[at] = np.maximum(self.last[at], steps[ends])
        self.min[at] = np.minimum(self.min[at], np.minimum.reduceat(values, starts))
        self.max[at] = np.maximum(self.max[at], np.maximum.reduceat(values, starts))
        self.sum[at] += np.add.reduceat(values, starts)
        self.count[at] += ends - starts + 1

    def chart(self, run_id: str, key: str) -> MetricChart:
        kept = self.count > 0
        return MetricChart(
            run_id=run_id,
            key=key,
            total_points=int(self.count.sum()),
            step_first=self.first[kept].tolist(),
            step_last=self.last[kept].tolist(),
            min=self.min[kept].tolist(),
            max=self.max[kept].tolist(),
            mean=(self.sum[kept] / self.count[kept]).tolist(),
            count=self.count[kept].tolist(),
        )


def _history_sql(dialect: sa.Dialect) -> str:
    q = dialect.identifier_preparer.quote
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    return (
        f"SELECT {q('step')}, {q('value')} FROM {q(t.RunMetric.__tablename__)}"
        f" WHERE {q('run_id')} = {marker} AND {q('key')} = {marker} ORDER BY {q('step')}"
    )


@operation("tracking:GetRun", run_resource, mutating=False)
def metric_chart(ctx: RequestContext, run_id: str, key: str, max_points: int = 500) -> MetricChart:
    """A metric's history in at most ``max_points`` step buckets (min, max, mean each)."""
    if not 1 <= max_points <= MAX_POINTS:
        raise InvalidInput(f"must be between 1 and {MAX_POINTS}", field="max_points")
    m = t.RunMetric
    mine = (m.run_id == run_id, m.key == key)
    with ctx.platform.db.session() as session:
        ended = run_row(session, run_id).status != "running"
        cache_key = (str(ctx.platform.db.engine.url), run_id, key, max_points)
        with _cache_lock:
            cached = _cache.get(cache_key) if ended else None
            if cached is not None:
                _cache.move_to_end(cache_key)
                return cached.model_copy()
        # two single-aggregate queries: each is one seek into the index
        low = session.scalar(sa.select(sa.func.min(m.step)).where(*mine))
        high = session.scalar(sa.select(sa.func.max(m.step)).where(*mine))
        if low is None or high is None:
            return _Buckets(1, 0, 0).chart(run_id, key)
        buckets = _Buckets(max_points, int(low), int(high))
        connection = session.connection()
        cursor = connection.connection.cursor()
        try:
            cursor.execute(_history_sql(connection.dialect), (run_id, key))
            while rows := cursor.fetchmany(_CHUNK):
                steps = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                values = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
                buckets.add(steps, values)
        finally:
            cursor.close()
    chart = buckets.chart(run_id, key)
    if ended:
        with _cache_lock:
            _cache[cache_key] = chart
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    return chart.model_copy()
