"""Worker: Shipyard's drift report on the bench files; prints JSON timings."""

from __future__ import annotations

import json
import statistics
import sys
import time

import pyarrow.parquet as pq

from shipyard.contracts import Contract, build_reference, render_html, validate_table


def main() -> None:
    reference_path, current_path = sys.argv[1], sys.argv[2]
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    started = time.perf_counter()
    reference, current = pq.read_table(reference_path), pq.read_table(current_path)
    load = time.perf_counter() - started
    warm = Contract(name="warm", reference=build_reference(reference.slice(0, 1000)))
    render_html(validate_table(warm, current.slice(0, 1000)))  # loads scipy, as imports do
    computes, renders = [], []
    drifted: list[str] = []
    for _ in range(repeats):
        started = time.perf_counter()
        contract = Contract(name="drift", reference=build_reference(reference))
        report = validate_table(contract, current)
        computes.append(time.perf_counter() - started)
        render_html(report)
        renders.append(time.perf_counter() - started)
        drifted = sorted(d.column for d in report.drift if d.drifted)
    print(
        json.dumps(
            {
                "tool": "shipyard",
                "load": load,
                "compute": statistics.median(computes),
                "report": statistics.median(renders),
                "drifted": drifted,
            }
        )
    )


if __name__ == "__main__":
    main()
