"""The one set of checks every tool in bench/validation.py runs, as plain data."""

from __future__ import annotations

ROWS = (1, 1_000_000_000)
COUNTRIES = ["DE", "FR", "US", "GB", "IT", "ES", "NL"]
SKU = r"^[A-Z]{2}\d{4}$"
NOT_NULL = ["id", "amount", "age", "score", "country", "sku"]
UNIQUE = ["id"]
RANGES = {"amount": (0.0, 1000.0), "age": (0, 120), "score": (0.0, 1.0)}
MEAN = {"amount": (50.0, 150.0)}
ALLOWED = {"country": COUNTRIES}
PATTERN = {"sku": SKU}
NUMERIC = ["id", "amount", "age", "score"]
STRINGS = ["country", "sku"]
PROFILE = "count, missing, min, max, mean, std per numeric column; min/max length per string"


def labels() -> list[str]:
    """The failing-row counts every tool reports, in one order, for the cross-check."""
    return (
        [f"{c}.not_null" for c in NOT_NULL]
        + [f"{c}.unique" for c in UNIQUE]
        + [f"{c}.range" for c in RANGES]
        + [f"{c}.allowed_values" for c in ALLOWED]
        + [f"{c}.pattern" for c in PATTERN]
    )
