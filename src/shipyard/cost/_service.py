"""``cost.report``: what jobs and endpoints cost over a period, by resource, principal or
pipeline.

The action is ``cost:GetCostReport``; the report counts only the resources the asking
principal may describe (each job by its kind's Describe action, each endpoint by
``endpoints:DescribeEndpoint``; by pipeline, each pipeline's jobs by
``pipelines:DescribePipeline``), so it never tells one team what another's work cost.
"""

from __future__ import annotations

from shipyard.clock import parse_since, utcnow
from shipyard.cost._collect import Item, endpoint_items, job_items
from shipyard.cost._pipelines import pipeline_items
from shipyard.cost._prices import Usage, prices_of
from shipyard.errors import InvalidInput
from shipyard.names import resource
from shipyard.schemas.cost import GROUPINGS, CostReport, Grouping
from shipyard.security import Decision, RequestContext, ResourceName, operation


@operation("cost:GetCostReport", lambda: resource("cost", "report"), mutating=False)
def cost_report(ctx: RequestContext, by: str = "resource", since: str = "7d") -> CostReport:
    """Cost of jobs (training, batch, tuning with its trials, AutoML) and endpoints from
    ``since`` (``7d``, ``1h``, an ISO time) to now, grouped ``by`` resource, principal or
    pipeline (a pipeline: its runs' own jobs and the jobs their steps started, for the
    pipelines the principal may describe), priced with the settings' ``price_cpu_hour``
    and ``price_gb_hour``."""
    if by not in GROUPINGS:
        raise InvalidInput(f"must be one of {', '.join(GROUPINGS)}", field="by")
    grouping: Grouping = by
    start, until = parse_since(since), utcnow()
    if start > until:
        raise InvalidInput("must not be in the future", field="since")

    def visible(action: str, name: ResourceName) -> bool:
        return ctx.decide(action, name)[0] is Decision.ALLOW

    with ctx.platform.db.session() as session:
        if grouping == "pipeline":
            items = pipeline_items(session, start, until, visible)
        else:
            items = job_items(session, start, until, visible)
            items += endpoint_items(session, start, until, visible)
    groups: dict[str, Usage] = {}
    for item in items:
        groups.setdefault(_key(item, grouping), Usage()).add(item.usage)
    prices = prices_of(ctx.platform.settings)
    lines = sorted(
        (usage.priced(key, prices) for key, usage in groups.items()),
        key=lambda line: (-line.cost, line.key),
    )
    return CostReport(
        by=grouping,
        since=start,
        until=until,
        prices=prices,
        lines=lines,
        total=sum(line.cost for line in lines),
    )


def _key(item: Item, grouping: Grouping) -> str:
    if grouping == "principal":
        return item.principal
    if grouping == "pipeline" and item.pipeline is not None:
        return item.pipeline
    return item.resource
