"""Cost: what jobs and endpoints used, priced with the settings' price table."""

from shipyard.cost._models import GROUPINGS, CostLine, CostReport, Grouping, Prices
from shipyard.cost._service import cost_report

__all__ = ["GROUPINGS", "CostLine", "CostReport", "Grouping", "Prices", "cost_report"]
