"""An endpoint's live traffic over time, per variant: requests, error rate and latency
quantiles in equal time buckets, from the serving workers' 10-second stats windows."""

from __future__ import annotations

import sqlalchemy as sa

from shipyard.clock import epoch_seconds
from shipyard.endpoints._stats import WINDOW_SECONDS, _Tally
from shipyard.endpoints._variants import find_endpoint
from shipyard.errors import InvalidInput
from shipyard.names import resource
from shipyard.schemas.endpoints import EndpointTraffic, VariantTraffic
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import endpoint_tables as et


@operation("endpoints:DescribeEndpoint", lambda name: resource("endpoint", name), mutating=False)
def endpoint_traffic(
    ctx: RequestContext, name: str, minutes: int = 60, buckets: int = 60
) -> EndpointTraffic:
    """Per-variant requests, errors and latency over the last ``minutes``, in ``buckets``."""
    if not 1 <= minutes <= 7 * 24 * 60:
        raise InvalidInput("must be between 1 and 10080", field="minutes")
    if not 1 <= buckets <= 1000:
        raise InvalidInput("must be between 1 and 1000", field="buckets")
    width = max(WINDOW_SECONDS, minutes * 60 / buckets)
    count = int(minutes * 60 // width) or 1
    end = epoch_seconds()
    start = end - count * width
    stats = et.VariantStats
    tallies: dict[str, list[_Tally]] = {}
    with ctx.platform.db.session() as session:
        find_endpoint(session, name)
        rows = session.scalars(
            sa.select(stats).where(stats.endpoint == name, stats.window_start >= start)
        )
        for row in rows:
            index = min(count - 1, int((row.window_start - start) // width))
            series = tallies.setdefault(row.variant, [_Tally() for _ in range(count)])
            series[index].add(row)
    variants = []
    for variant, series in sorted(tallies.items()):
        metrics = [tally.metrics(variant) for tally in series]
        variants.append(
            VariantTraffic(
                variant=variant,
                requests=[m.requests for m in metrics],
                errors=[m.errors for m in metrics],
                error_rate=[m.error_rate for m in metrics],
                p50_latency_ms=[m.p50_latency_ms for m in metrics],
                p95_latency_ms=[m.p95_latency_ms for m in metrics],
            )
        )
    return EndpointTraffic(
        endpoint=name, start=start, bucket_seconds=width, buckets=count, variants=variants
    )
