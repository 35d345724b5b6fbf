"""The SDK's cost group: ``client.cost.report(by="principal", since="7d")``."""

from __future__ import annotations

from shipyard.client._resources import _Group
from shipyard.cost import CostReport


class Cost(_Group):
    """What jobs and endpoints cost, priced with the server's price table."""

    def report(self, by: str = "resource", since: str = "7d") -> CostReport:
        """Cost from ``since`` (``7d``, ``1h``, an ISO time) to now, grouped ``by``
        ``resource``, ``principal`` or ``pipeline``; only resources you may describe count."""
        return CostReport.model_validate(self._t.call("cost.report", by=by, since=since))
