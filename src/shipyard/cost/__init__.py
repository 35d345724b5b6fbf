"""Cost: what jobs and endpoints used, priced with the settings' price table."""

from shipyard.cost._models import (
    GROUPINGS,
    CandidateResult,
    CostLine,
    CostReport,
    Grouping,
    Prices,
    Recommendation,
)
from shipyard.cost._recommend import recommend_configuration
from shipyard.cost._service import cost_report

__all__ = [
    "GROUPINGS",
    "CandidateResult",
    "CostLine",
    "CostReport",
    "Grouping",
    "Prices",
    "Recommendation",
    "cost_report",
    "recommend_configuration",
]
