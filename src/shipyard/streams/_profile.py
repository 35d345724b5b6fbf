"""A dataset version's profile after a commit: the previous profile merged with the new rows'.

Profiling the whole dataset at every commit would cost more with every commit; instead the
new partition is profiled exactly and merged in. Counts, nulls, min, max, lengths, mean
and standard deviation (Chan et al.'s parallel update) stay exact; distinct counts,
quantiles and top values become estimates, and the profile says so.
"""

from __future__ import annotations

import math
from typing import Any

from shipyard.data._profile import TOP_VALUES

_ESTIMATED = {
    "distinct": "after a merge: the sum when every value was unique, else the larger count",
    "quantiles": "after a merge: averages of the merged profiles' quantiles, weighted by count",
    "top_values": "after a merge: counts summed over the merged profiles' top values",
}


def merge_profiles(previous: dict[str, Any] | None, added: dict[str, Any]) -> dict[str, Any]:
    """The profile of ``previous`` rows followed by ``added`` rows (both stored profiles)."""
    if previous is None:
        return added | {"method": {"kind": "stream", "approximate": {}}}
    before = {c["name"]: c for c in previous.get("columns", [])}
    rows = int(previous["rows"]) + int(added["rows"])
    columns: list[dict[str, Any]] = []
    approximate: dict[str, list[str]] = dict(previous.get("method", {}).get("approximate", {}))
    for column in added["columns"]:
        old = before.get(column["name"])
        if old is None or old.get("type") != column.get("type"):
            columns.append(column)
            continue
        merged, estimated = _merge_column(old, column, rows)
        columns.append(merged)
        if estimated:
            approximate[column["name"]] = sorted(
                set(approximate.get(column["name"], [])) | set(estimated)
            )
    return {
        "rows": rows,
        "columns": columns,
        "method": {"kind": "stream", "approximate": approximate, "estimates": _ESTIMATED},
    }


def _number(value: Any) -> float | None:
    if value is None:
        return None
    return float(value)


def _json_number(value: float | None) -> float | str | None:
    if value is None or math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _merge_column(
    old: dict[str, Any], new: dict[str, Any], rows: int
) -> tuple[dict[str, Any], list[str]]:
    merged = dict(new)
    a, b = int(old["count"]), int(new["count"])
    merged["count"] = a + b
    merged["nulls"] = int(old["nulls"]) + int(new["nulls"])
    merged["nans"] = int(old.get("nans", 0)) + int(new.get("nans", 0))
    merged["null_fraction"] = merged["nulls"] / rows if rows else 0.0
    all_unique = old["distinct"] == a and new["distinct"] == b
    merged["distinct"] = (
        old["distinct"] + new["distinct"] if all_unique else max(old["distinct"], new["distinct"])
    )
    estimated = ["distinct"]
    for key, pick in (("min", min), ("max", max), ("min_length", min), ("max_length", max)):
        present = [v for v in (old.get(key), new.get(key)) if v is not None]
        if present:
            merged[key] = pick(present, key=_order)
    if a and b and old.get("mean") is not None and new.get("mean") is not None:
        merged["mean"], merged["std"] = _moments(old, new, a, b)
    elif a and not b:
        merged["mean"], merged["std"] = old.get("mean"), old.get("std")
    if old.get("quantiles") and new.get("quantiles"):
        merged["quantiles"] = {
            q: _json_number(
                (_number(old["quantiles"][q]) or 0.0) * a / (a + b)
                + (_number(new["quantiles"][q]) or 0.0) * b / (a + b)
            )
            for q in new["quantiles"]
        }
        estimated.append("quantiles")
    elif old.get("quantiles"):
        merged["quantiles"] = old["quantiles"]
    if old.get("top_values") is not None and new.get("top_values") is not None:
        merged["top_values"] = _merge_top(old["top_values"], new["top_values"])
        estimated.append("top_values")
    return merged, estimated


def _order(value: Any) -> Any:
    return float(value) if isinstance(value, str) and value.endswith("Infinity") else value


def _moments(
    old: dict[str, Any], new: dict[str, Any], a: int, b: int
) -> tuple[float | str | None, float | str | None]:
    mean_a, mean_b = _number(old["mean"]) or 0.0, _number(new["mean"]) or 0.0
    var_a = (_number(old.get("std")) or 0.0) ** 2
    var_b = (_number(new.get("std")) or 0.0) ** 2
    n = a + b
    delta = mean_b - mean_a
    mean = mean_a + delta * b / n
    m2 = var_a * (a - 1) + var_b * (b - 1) + delta * delta * a * b / n
    std = math.sqrt(m2 / (n - 1)) if n > 1 and m2 >= 0 else None
    return _json_number(mean), _json_number(std)


def _merge_top(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    counts: dict[Any, int] = {}
    for item in (*old, *new):
        counts[item["value"]] = counts.get(item["value"], 0) + int(item["count"])
    ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    return [{"value": v, "count": c} for v, c in ranked[:TOP_VALUES]]
