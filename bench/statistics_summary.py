"""Summary bench: updating one column summary from batches, against numpy's one-pass floor.

    python bench/statistics_summary.py           # 10M float64 rows in 1M-row batches
    python bench/statistics_summary.py --rows 1000000

``summary`` is ColumnSummary.update over every batch (counts, NaN, moments, min/max,
KMV distinct count, KLL quantiles), ``merge`` folds ten per-batch summaries into one,
``numpy floor`` is what any exact profile must at least do: mean, var, min, max and a
sort of the whole column held in memory. The quantile rank error of the summary is
printed with it.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pyarrow as pa

from shipyard.statistics import COMPACT, PROFILE, ColumnSummary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--batch", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    values = rng.normal(0.0, 1.0, args.rows)
    batches = [pa.array(values[i : i + args.batch]) for i in range(0, args.rows, args.batch)]
    rows = []
    for label, options in (("PROFILE", PROFILE), ("COMPACT", COMPACT)):
        started = time.perf_counter()
        summary = ColumnSummary("x", "float", options)
        for batch in batches:
            summary.update(batch)
        updated = time.perf_counter() - started
        started = time.perf_counter()
        merged = ColumnSummary("x", "float", options)
        for batch in batches:
            merged.merge(ColumnSummary("x", "float", options).update(batch))
        merged_time = time.perf_counter() - started
        points = np.linspace(0.01, 0.99, 99)
        ranks = np.searchsorted(np.sort(values), summary.quantile(points.tolist())) / args.rows
        error = float(np.max(np.abs(ranks - points)))
        rows.append((label, updated, merged_time, error))
    started = time.perf_counter()
    values.mean(), values.var(), values.min(), values.max(), np.sort(values)
    floor = time.perf_counter() - started
    print(f"{args.rows:,} float64 rows, batches of {args.batch:,}")
    print(f"{'options':<8} {'update s':>9} {'rows/s':>12} {'merge s':>8} {'max rank err':>13}")
    for label, updated, merged_time, error in rows:
        print(
            f"{label:<8} {updated:9.2f} {args.rows / updated:12,.0f} "
            f"{merged_time:8.2f} {error:13.5f}"
        )
    print(f"numpy floor (mean, var, min, max, sort): {floor:.2f} s")


if __name__ == "__main__":
    main()
