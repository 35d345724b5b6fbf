"""Turning use into money: CPU-hours and GB-hours of memory at the settings' prices.

A job holds its peak memory for its whole wall time (what a container sized for it would
be billed); an endpoint worker holds each sampled resident memory for the sample's
interval. A GB is 1024 MiB (as Fargate bills memory).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shipyard.config import Settings
from shipyard.schemas.cost import CostLine, Prices


def prices_of(settings: Settings) -> Prices:
    return Prices(
        cpu_hour=settings.price_cpu_hour, gb_hour=settings.price_gb_hour, currency=settings.currency
    )


def gb_hours(memory_mb: float, seconds: float) -> float:
    """Memory of ``memory_mb`` MiB held for ``seconds``, in GB-hours."""
    return memory_mb / 1024 * seconds / 3600


@dataclass
class Usage:
    """What one resource (or a group of them) used."""

    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    gb_hours: float = 0.0
    resources: set[str] = field(default_factory=set)

    def add(self, other: Usage) -> None:
        self.wall_seconds += other.wall_seconds
        self.cpu_seconds += other.cpu_seconds
        self.gb_hours += other.gb_hours
        self.resources |= other.resources

    def priced(self, key: str, prices: Prices) -> CostLine:
        cpu_cost = self.cpu_seconds / 3600 * prices.cpu_hour
        memory_cost = self.gb_hours * prices.gb_hour
        return CostLine(
            key=key,
            resources=len(self.resources),
            wall_seconds=round(self.wall_seconds, 3),
            cpu_seconds=round(self.cpu_seconds, 3),
            gb_hours=round(self.gb_hours, 9),
            cpu_cost=cpu_cost,
            memory_cost=memory_cost,
            cost=cpu_cost + memory_cost,
        )
