"""``cost.report``: what jobs and endpoints cost over a period, by resource, principal or
pipeline.

The action is ``cost:GetCostReport``; the report counts only the resources the asking
principal may describe (each job by its kind's Describe action, each endpoint by
``endpoints:DescribeEndpoint``), so it never tells one team what another's work cost.
"""

from __future__ import annotations

from shipyard.clock import parse_since, utcnow
from shipyard.cost._collect import Item, endpoint_items, job_items
from shipyard.cost._models import GROUPINGS, CostReport, Grouping
from shipyard.cost._pipelines import pipelines_of_jobs
from shipyard.cost._prices import Usage, prices_of
from shipyard.errors import InvalidInput
from shipyard.names import resource
from shipyard.security import Decision, RequestContext, ResourceName, operation


@operation("cost:GetCostReport", lambda: resource("cost", "report"), mutating=False)
def cost_report(ctx: RequestContext, by: str = "resource", since: str = "7d") -> CostReport:
    """Cost of jobs (training, batch, tuning with its trials, AutoML) and endpoints from
    ``since`` (``7d``, ``1h``, an ISO time) to now, grouped ``by`` resource, principal or
    pipeline, priced with the settings' ``price_cpu_hour`` and ``price_gb_hour``."""
    if by not in GROUPINGS:
        raise InvalidInput(f"must be one of {', '.join(GROUPINGS)}", field="by")
    grouping: Grouping = by
    start, until = parse_since(since), utcnow()
    if start > until:
        raise InvalidInput("must not be in the future", field="since")

    def visible(action: str, name: ResourceName) -> bool:
        return ctx.decide(action, name)[0] is Decision.ALLOW

    note = ""
    pipelines: dict[str, str] | None = None
    with ctx.platform.db.session() as session:
        items = job_items(session, start, until, visible)
        if grouping == "pipeline":
            pipelines = pipelines_of_jobs(session, [i.job_id for i in items if i.job_id])
        else:
            items += endpoint_items(session, start, until, visible)
    groups: dict[str, Usage] = {}
    if grouping == "pipeline":
        if not pipelines:
            items, note = [], "no pipeline runs"
        else:
            items = [i for i in items if i.job_id in pipelines]
    for item in items:
        key = _key(item, grouping, pipelines)
        groups.setdefault(key, Usage()).add(item.usage)
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
        note=note,
    )


def _key(item: Item, grouping: Grouping, pipelines: dict[str, str] | None) -> str:
    if grouping == "principal":
        return item.principal
    if grouping == "pipeline" and pipelines is not None and item.job_id is not None:
        return pipelines[item.job_id]
    return item.resource
