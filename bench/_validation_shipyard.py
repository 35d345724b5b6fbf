"""Worker: Shipyard validates the bench file with the shared checks; prints JSON timings."""

from __future__ import annotations

import json
import statistics
import sys
import time

import pyarrow.parquet as pq

import _validation_checks as checks
from shipyard.contracts import parse_contract, validate_parquet, validate_table


def contract() -> object:
    columns: dict[str, dict[str, object]] = {c: {"not_null": True} for c in checks.NOT_NULL}
    for c in checks.UNIQUE:
        columns[c]["unique"] = True
    for c, (low, high) in checks.RANGES.items():
        columns[c]["range"] = {"min": low, "max": high}
    for c, (low, high) in checks.MEAN.items():
        columns[c]["mean"] = {"min": low, "max": high}
    for c, values in checks.ALLOWED.items():
        columns[c]["allowed_values"] = values
    for c, regex in checks.PATTERN.items():
        columns[c]["pattern"] = regex
    low, high = checks.ROWS
    return parse_contract({"name": "bench", "rows": {"min": low, "max": high}, "columns": columns})


def main() -> None:
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rules = contract()
    loads, runs, files, cpus = [], [], [], []
    report = None
    validate_table(rules, pq.read_table(path))  # type: ignore[arg-type]  # warm-up
    for _ in range(repeats):
        started = time.perf_counter()
        table = pq.read_table(path)
        loads.append(time.perf_counter() - started)
        cpu = time.process_time()
        started = time.perf_counter()
        report = validate_table(rules, table)  # type: ignore[arg-type]
        runs.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
        del table
        started = time.perf_counter()
        validate_parquet(rules, path)  # type: ignore[arg-type]
        files.append(time.perf_counter() - started)
    assert report is not None
    failing = {c.label: c.failing_rows for c in report.checks if c.failing_rows is not None}
    print(
        json.dumps(
            {
                "tool": "shipyard",
                "load": statistics.median(loads),
                "validate": statistics.median(runs),
                "cpu": statistics.median(cpus),
                "streamed": statistics.median(files),
                "failing": failing,
                "mean_passed": next(c.passed for c in report.checks if c.check == "mean"),
            }
        )
    )


if __name__ == "__main__":
    main()
