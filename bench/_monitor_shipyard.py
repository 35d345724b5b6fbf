"""Worker: one Shipyard monitor run over the bench's day of capture; prints JSON."""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np


def main() -> None:
    directory = Path(sys.argv[1])
    from shipyard.config import Settings
    from shipyard.monitoring._estimate import estimate
    from shipyard.monitoring._run import Plan, compute
    from shipyard.platform import Platform

    window = json.loads((directory / "window.json").read_text())
    start = datetime.fromtimestamp(window["start"], UTC)
    end = datetime.fromtimestamp(window["end"], UTC)
    platform = Platform.open(Settings(home=directory / "home"))
    plan = Plan(0, "bench", "ep", None, ["data", "prediction", "estimated", "attribution"])
    started = time.perf_counter()
    result = compute(platform, plan, start, end)
    wall = time.perf_counter() - started
    (variant,) = result.variants
    import pyarrow.parquet as pq

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
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "drifted": sorted(f.feature for f in variant.features if f.drifted),
                "estimated": variant.estimated.metrics if variant.estimated else {},
                "cbpe_only": cbpe.metrics,
                "cbpe_seconds": cbpe_seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
