"""What a cost report says (wire types: pydantic only)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

Grouping = Literal["resource", "principal", "pipeline"]
GROUPINGS: tuple[Grouping, ...] = ("resource", "principal", "pipeline")


class Prices(BaseModel):
    """The price table the report was priced with (from settings)."""

    cpu_hour: float
    gb_hour: float
    currency: str


class CostLine(BaseModel):
    """One group's use and what it cost: CPU seconds, memory held (GB-hours), wall time."""

    key: str
    resources: int
    wall_seconds: float
    cpu_seconds: float
    gb_hours: float
    cpu_cost: float
    memory_cost: float
    cost: float


class CostReport(BaseModel):
    """Cost from ``since`` to ``until``, grouped ``by``, most expensive first.

    Jobs count in the period they ended in (a running job with what it recorded so far),
    whole; endpoints by their workers' usage samples taken in the period. Only resources
    the asking principal may describe are counted.
    """

    by: Grouping
    since: datetime
    until: datetime
    prices: Prices
    lines: list[CostLine]
    total: float
    note: str = ""
