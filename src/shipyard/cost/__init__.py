"""Cost: what jobs and endpoints used, priced with the settings' price table."""

from shipyard.cost._recommend import recommend_configuration
from shipyard.cost._service import cost_report
from shipyard.schemas.cost import (
    GROUPINGS,
    CandidateResult,
    CostLine,
    CostReport,
    Grouping,
    Prices,
    Recommendation,
)

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
