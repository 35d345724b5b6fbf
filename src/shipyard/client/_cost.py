"""The SDK's cost group: ``client.cost.report(by="principal", since="7d")``."""

from __future__ import annotations

from shipyard.client._group import _Group
from shipyard.schemas.cost import CostReport, Recommendation


class Cost(_Group):
    """What jobs and endpoints cost, priced with the server's price table."""

    def report(self, by: str = "resource", since: str = "7d") -> CostReport:
        """Cost from ``since`` (``7d``, ``1h``, an ISO time) to now, grouped ``by``
        ``resource``, ``principal`` or ``pipeline``; only resources you may describe count."""
        return CostReport.model_validate(self._t.call("cost.report", by=by, since=since))

    def recommend(
        self,
        endpoint: str,
        *,
        target_p99_ms: float = 50.0,
        workers: list[int] | None = None,
        batch_sizes: list[int] | None = None,
        max_wait_ms: float = 2.0,
        seconds: float = 5.0,
        concurrency: int = 8,
    ) -> Recommendation:
        """Load-test a private copy of ``endpoint`` with each worker count x batch size
        (0: no batching) and recommend the cheapest meeting ``target_p99_ms``."""
        return Recommendation.model_validate(
            self._t.call(
                "endpoints.recommend",
                name=endpoint,
                target_p99_ms=target_p99_ms,
                workers=workers,
                batch_sizes=batch_sizes,
                max_wait_ms=max_wait_ms,
                seconds=seconds,
                concurrency=concurrency,
            )
        )
