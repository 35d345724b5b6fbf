"""Worker: one Shipyard monitor run over the bench's day of capture; prints JSON."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM: reset by exec, unlike ru_maxrss)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def drift_only(directory: Path) -> tuple[float, list[str]]:
    """Per-feature drift on the same flat files Evidently reads (read before the clock):
    baseline references, window counts, the statistic and verdict of each feature."""
    import pyarrow.parquet as pq

    from shipyard.monitoring._baseline import reference_of
    from shipyard.monitoring._features import Feature
    from shipyard.monitoring._summary import Current
    from shipyard.monitoring.drift import choose

    reference = pq.read_table(directory / "reference.parquet")
    current = pq.read_table(directory / "current.parquet")
    started = time.perf_counter()
    drifted = []
    for name in reference.column_names:
        feature = Feature(name, "float" if name.startswith("n") else "string")
        ref = reference_of(feature, reference.column(name))
        window = Current(ref)
        window.add(current.column(name))
        if choose(ref.kind, ref.rows).score(ref.histogram, window.histogram()).drifted:
            drifted.append(name)
    return time.perf_counter() - started, sorted(drifted)


def main() -> None:
    directory = Path(sys.argv[1])
    from shipyard.config import Settings
    from shipyard.monitoring._estimate import estimate
    from shipyard.monitoring._plan import Plan, compute
    from shipyard.platform import Platform

    window = json.loads((directory / "window.json").read_text())
    start = datetime.fromtimestamp(window["start"], UTC)
    end = datetime.fromtimestamp(window["end"], UTC)
    platform = Platform.open(Settings(home=directory / "home"))
    plan = Plan(0, "bench", "ep", None, ["data", "prediction", "estimated", "attribution"])
    started = time.perf_counter()
    result = compute(platform, plan, start, end)
    wall = time.perf_counter() - started
    peak = peak_mb()
    (variant,) = result.variants
    import pyarrow.parquet as pq

    drift_seconds, drifted = drift_only(directory)
    scores = pq.read_table(directory / "current-scores.parquet")["positive"].to_numpy()
    started = time.perf_counter()
    cbpe = estimate(np.column_stack([1 - scores, scores]))
    cbpe_seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "tool": "Shipyard monitor",
                "rows": variant.rows,
                "wall": wall,
                "peak_mb": peak,
                "drifted": sorted(f.feature for f in variant.features if f.drifted),
                "estimated": variant.estimated.metrics if variant.estimated else {},
                "cbpe_only": cbpe.metrics,
                "cbpe_seconds": cbpe_seconds,
                "drift_seconds": drift_seconds,
                "drift_only_drifted": drifted,
            }
        )
    )


if __name__ == "__main__":
    main()
