"""Drift bench: a per-column drift report, Shipyard against Evidently's DataDriftPreset.

    python bench/drift.py            # 1M reference and 1M current rows x 20 columns, medians of 3
    python bench/drift.py --quick    # 100k rows, 1 run

Both read the same two Parquet files (14 numeric columns n00..n13, 6 categorical
c00..c05; 6 columns shift in the current data) in their own process: Shipyard in this
virtualenv, Evidently in bench/.venv-evidently, installed on first use. ``compute`` is
the whole drift computation from the two in-memory tables, reference statistics
included (Shipyard: build_reference + validate; Evidently: Report.run + its result
dict); ``with HTML`` adds writing the HTML report. Statistics differ by design:
Shipyard uses PSI and binned Kolmogorov-Smirnov for numbers and Jensen-Shannon plus
chi-square for categories; Evidently (on more than 1000 rows) normed Wasserstein
distance and Jensen-Shannon; both flag the shifted columns.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))

from _peer_env import ensure_venv, median_run, run_worker

DATA = Path(__file__).parent / "results" / "data"
PACKAGES = ["evidently>=0.7,<0.8", "pandas<3", "pyarrow"]
SHIFTED = {"n01", "n04", "n08", "n12", "c01", "c04"}
TARGET = 10.0


def _columns(rows: int, rng: np.random.Generator, shifted: bool) -> dict[str, object]:
    columns: dict[str, object] = {}
    for i in range(14):
        name = f"n{i:02d}"
        move = shifted and name in SHIFTED
        kind = i % 4
        if kind == 0:
            values = rng.normal(0.5 if move else 0.0, 1.0, rows)
        elif kind == 1:
            values = rng.lognormal(0.4 if move else 0.0, 1.0, rows)
        elif kind == 2:
            values = rng.uniform(0.0, 1.2 if move else 1.0, rows)
        else:
            values = rng.poisson(5.0 if move else 4.0, rows).astype(np.int64)
        columns[name] = values
    for i in range(6):
        name = f"c{i:02d}"
        levels = np.array([f"v{j}" for j in range(5 + 5 * i)])
        weights = np.linspace(1.0, 4.0, len(levels))
        if shifted and name in SHIFTED:
            weights = weights[::-1]
        columns[name] = pa.array(levels[rng.choice(len(levels), rows, p=weights / weights.sum())])
    return columns


def bench_files(rows: int) -> tuple[Path, Path]:
    DATA.mkdir(parents=True, exist_ok=True)
    paths = (DATA / f"drift-{rows}-reference.parquet", DATA / f"drift-{rows}-current.parquet")
    for path, seed, shifted in ((paths[0], 1, False), (paths[1], 2, True)):
        if not path.exists():
            table = pa.table(_columns(rows, np.random.default_rng(seed), shifted))
            pq.write_table(table, path, compression="zstd")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k rows, one run")
    args = parser.parse_args()
    rows = 100_000 if args.quick else 1_000_000
    repeats = 1 if args.quick else 3
    python = ensure_venv("evidently", PACKAGES)
    reference, current = (str(p) for p in bench_files(rows))
    runs: dict[str, list[dict[str, object]]] = {"shipyard": [], "evidently": []}
    for _ in range(repeats):  # the tools take turns, so each meets the same machine load
        runs["shipyard"].append(
            run_worker(sys.executable, "_drift_shipyard.py", reference, current)
        )
        runs["evidently"].append(run_worker(python, "_drift_evidently.py", reference, current))
    ours, peer = median_run(runs["shipyard"]), median_run(runs["evidently"])
    print(
        f"\nDrift report, {rows:,} reference and {rows:,} current rows x 20 columns "
        f"(14 numeric, 6 categorical; shifted: {', '.join(sorted(SHIFTED))}). "
        f"Medians of {repeats} run(s), seconds.\n"
    )
    print(f"| tool | compute | with HTML | drifted columns | speed-up (target {TARGET:.0f}x) |")
    print("|---|---|---|---|---|")
    for result in (ours, peer):
        compute, report = float(result["compute"]), float(result["report"])  # type: ignore[arg-type]
        speed = (
            f"{float(peer['compute']) / compute:.1f}x / {float(peer['report']) / report:.1f}x"  # type: ignore[arg-type]
            if result is ours
            else ""
        )
        print(
            f"| {result['tool']} | {compute:.3f} | {report:.3f} | "
            f"{', '.join(result['drifted'])} | {speed} |"  # type: ignore[arg-type]
        )


if __name__ == "__main__":
    main()
