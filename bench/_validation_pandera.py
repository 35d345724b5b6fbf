"""Worker: pandera validates the bench file with the shared checks; prints JSON timings."""

from __future__ import annotations

import contextlib
import json
import statistics
import sys
import time
from typing import Any

import pandas as pd
import pandera
import pandera.pandas as pa

import _validation_checks as checks


def schema() -> pa.DataFrameSchema:
    columns: dict[str, pa.Column] = {}
    for name in checks.NUMERIC + checks.STRINGS:
        column_checks: list[pa.Check] = []
        if name in checks.RANGES:
            low, high = checks.RANGES[name]
            column_checks.append(pa.Check.in_range(low, high))
        if name in checks.MEAN:
            low, high = checks.MEAN[name]
            column_checks.append(pa.Check(lambda s, lo=low, hi=high: lo <= s.mean() <= hi))
        if name in checks.ALLOWED:
            column_checks.append(pa.Check.isin(checks.ALLOWED[name]))
        if name in checks.PATTERN:
            column_checks.append(pa.Check.str_matches(checks.PATTERN[name]))
        columns[name] = pa.Column(
            checks=column_checks,
            nullable=name not in checks.NOT_NULL,
            unique=name in checks.UNIQUE,
        )
    low, high = checks.ROWS
    return pa.DataFrameSchema(columns, checks=[pa.Check(lambda df: low <= len(df) <= high)])


def profile(frame: pd.DataFrame) -> dict[str, Any]:
    numeric = frame[checks.NUMERIC]
    stats = numeric.agg(["count", "min", "max", "mean", "std"])
    missing = numeric.isna().sum()
    lengths = {c: frame[c].str.len().agg(["min", "max"]) for c in checks.STRINGS}
    return {"stats": stats, "missing": missing, "lengths": lengths}


def failing(error: pa.errors.SchemaErrors | None) -> dict[str, int]:
    if error is None:
        return {}
    cases = error.failure_cases
    counts: dict[str, int] = {}
    for (column, check), group in cases.groupby(["column", "check"], dropna=False):
        name = str(check)
        label = (
            "not_null"
            if name == "not_nullable"
            else "unique"
            if name == "field_uniqueness"
            else "range"
            if name.startswith("in_range")
            else "allowed_values"
            if name.startswith("isin")
            else "pattern"
            if name.startswith("str_matches")
            else name
        )
        counts[f"{column}.{label}"] = len(group)
    return counts


def main() -> None:
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rules = schema()
    loads, runs, cpus = [], [], []
    error = None
    with contextlib.suppress(pa.errors.SchemaErrors):
        rules.validate(pd.read_parquet(path), lazy=True)  # warm-up
    for _ in range(repeats):
        started = time.perf_counter()
        frame = pd.read_parquet(path)
        loads.append(time.perf_counter() - started)
        cpu = time.process_time()
        started = time.perf_counter()
        try:
            rules.validate(frame, lazy=True)
            error = None
        except pa.errors.SchemaErrors as caught:
            error = caught
        profile(frame)
        runs.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
        del frame
    print(
        json.dumps(
            {
                "tool": f"pandera {pandera.__version__} (pandas {pd.__version__})",
                "load": statistics.median(loads),
                "validate": statistics.median(runs),
                "cpu": statistics.median(cpus),
                "failing": failing(error),
            }
        )
    )


if __name__ == "__main__":
    main()
