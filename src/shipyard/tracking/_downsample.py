"""A metric's history reduced on the server to at most ``max_points`` buckets for a chart.

Buckets split the run's step range evenly; each keeps its first and last step, the lowest,
highest and mean value and the count, so spikes survive (min/max) and the line is smooth
(mean). The grouping runs in SQL over the covering index ``(run_id, key, step, ...)``: a
100,000-point history becomes 500 rows without leaving the database.
"""

from __future__ import annotations

import sqlalchemy as sa
from pydantic import BaseModel

from shipyard.errors import InvalidInput
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import tables as t
from shipyard.tracking._rows import run_resource, run_row

MAX_POINTS = 5000


class MetricChart(BaseModel):
    """One metric of one run, bucketed by step: parallel lists, one entry per bucket."""

    run_id: str
    key: str
    total_points: int
    step_first: list[int]
    step_last: list[int]
    min: list[float]
    max: list[float]
    mean: list[float]
    count: list[int]


@operation("tracking:GetRun", run_resource, mutating=False)
def metric_chart(ctx: RequestContext, run_id: str, key: str, max_points: int = 500) -> MetricChart:
    """A metric's history in at most ``max_points`` step buckets (min, max, mean each)."""
    if not 1 <= max_points <= MAX_POINTS:
        raise InvalidInput(f"must be between 1 and {MAX_POINTS}", field="max_points")
    m = t.RunMetric
    mine = (m.run_id == run_id, m.key == key)
    with ctx.platform.db.session() as session:
        run_row(session, run_id)
        low, high, total = session.execute(
            sa.select(sa.func.min(m.step), sa.func.max(m.step), sa.func.count()).where(*mine)
        ).one()
        chart = MetricChart(
            run_id=run_id,
            key=key,
            total_points=total,
            step_first=[],
            step_last=[],
            min=[],
            max=[],
            mean=[],
            count=[],
        )
        if not total:
            return chart
        span = int(high) - int(low) + 1
        bucket = ((m.step - int(low)) * max_points // span).label("bucket")
        rows = session.execute(
            sa.select(
                bucket,
                sa.func.min(m.step),
                sa.func.max(m.step),
                sa.func.min(m.value),
                sa.func.max(m.value),
                sa.func.avg(m.value),
                sa.func.count(),
            )
            .where(*mine)
            .group_by(bucket)
            .order_by(bucket)
        ).all()
    for _, first, last, lowest, highest, mean, count in rows:
        chart.step_first.append(int(first))
        chart.step_last.append(int(last))
        chart.min.append(float(lowest))
        chart.max.append(float(highest))
        chart.mean.append(float(mean))
        chart.count.append(int(count))
    return chart
