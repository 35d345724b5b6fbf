"""Validation bench: the same checks plus a column profile in Shipyard, Great Expectations, pandera.

    python bench/validation.py            # 1M and 10M rows, medians of 3 runs
    python bench/validation.py --quick    # 200k rows, 1 run

One Parquet file per size (id, amount, age, score, country, sku; some rows break each check)
is read by every tool in its own process: Shipyard in this virtualenv, Great Expectations
1.x and pandera in bench/.venv-gx and bench/.venv-pandera, installed on first use. Tools take
turns, one run each, three times; each worker times itself after one untimed warm-up
run on the same data: ``validate`` is checks plus profile on data already in memory (an
Arrow table for Shipyard, a pandas DataFrame for the others), ``end to end`` adds reading
the file. The failing-row counts of every check are printed too, to show the tools agree.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))

import _validation_checks as checks
from _peer_env import ensure_venv, median_run, run_worker

DATA = Path(__file__).parent / "results" / "data"
PEERS = {
    "gx": (["great_expectations>=1.0,<2", "pyarrow"], "_validation_gx.py"),
    "pandera": (["pandera[pandas]>=0.20", "pyarrow"], "_validation_pandera.py"),
}
TARGET = 10.0


def bench_file(rows: int, seed: int = 7) -> Path:
    """The bench data with ``rows`` rows, written once."""
    path = DATA / f"validation-{rows}.parquet"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = rng.permutation(rows).astype(np.int64)
    ids[rng.choice(rows, size=max(rows // 100_000, 1), replace=False)] = 0
    amount = rng.gamma(2.0, 50.0, rows)
    amount[rng.random(rows) < 0.0005] *= -1
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    sku = pc.binary_join_element_wise(
        pa.array(letters[rng.integers(0, 26, rows)]),
        pa.array(letters[rng.integers(0, 26, rows)]),
        pc.cast(pa.array(rng.integers(1000, 10_000, rows)), pa.string()),
        "",
    )
    broken_sku = rng.random(rows) < 0.001
    sku = pc.if_else(pa.array(broken_sku), pc.utf8_lower(sku), sku)
    countries = np.array([*checks.COUNTRIES, "XX"])
    table = pa.table(
        {
            "id": ids,
            "amount": pa.array(amount, mask=rng.random(rows) < 0.01),
            "age": rng.integers(0, 125, rows),
            "score": rng.random(rows),
            "country": pa.array(countries[rng.integers(0, len(countries), rows)]),
            "sku": sku,
        }
    )
    pq.write_table(table, path, row_group_size=1 << 20, compression="zstd")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200k rows, one run")
    args = parser.parse_args()
    sizes = [200_000] if args.quick else [1_000_000, 10_000_000]
    repeats = 1 if args.quick else 3
    pythons = {tool: ensure_venv(tool, packages) for tool, (packages, _) in PEERS.items()}
    rows_out, agreement = [], []
    for rows in sizes:
        path = str(bench_file(rows))
        runs: dict[str, list[dict[str, object]]] = {"shipyard": [], **{t: [] for t in PEERS}}
        for _ in range(repeats):  # tools take turns, so each meets the same machine load
            runs["shipyard"].append(run_worker(sys.executable, "_validation_shipyard.py", path))
            for tool, (_, script) in PEERS.items():
                runs[tool].append(run_worker(pythons[tool], script, path))
        ours = median_run(runs["shipyard"])
        peers = {tool: median_run(runs[tool]) for tool in PEERS}
        fastest = min(peers.values(), key=lambda r: float(r["validate"]))  # type: ignore[arg-type]
        fastest_e2e = min(float(r["load"]) + float(r["validate"]) for r in peers.values())  # type: ignore[arg-type]
        ours_e2e = float(ours["load"]) + float(ours["validate"])  # type: ignore[arg-type]
        for result in [ours, *peers.values()]:
            validate = float(result["validate"])  # type: ignore[arg-type]
            end_to_end = float(result["load"]) + validate  # type: ignore[arg-type]
            rows_out.append(
                f"| {rows:,} | {result['tool']} | {validate:.3f} | "
                f"{float(result['cpu']):.3f} | {end_to_end:.3f} | "  # type: ignore[arg-type]
                + (
                    f"{float(fastest['validate']) / validate:.1f}x / "  # type: ignore[arg-type]
                    f"{fastest_e2e / end_to_end:.1f}x |"
                    if result is ours
                    else "|"
                )
            )
        rows_out.append(
            f"| {rows:,} | Shipyard, streamed row groups from the file | | "
            f"| {float(ours['streamed']):.3f} | |"  # type: ignore[arg-type]
        )
        for label in checks.labels():
            counts = [r["failing"].get(label) for r in [ours, *peers.values()]]  # type: ignore[union-attr]
            agreement.append(f"| {rows:,} | {label} | " + " | ".join(str(c) for c in counts) + " |")
        print(
            f"{rows:,} rows: Shipyard {float(ours['validate']):.3f}s in memory, "
            f"{ours_e2e:.3f}s from the file",
            file=sys.stderr,
        )
    print(
        f"\nChecks: rows, not null x6, unique, 3 ranges, mean, allowed values, regex; "
        f"profile: {checks.PROFILE}. Medians of {repeats} run(s), seconds "
        f"(wall clock; CPU seconds of the whole process beside it, Shipyard uses 2 threads; "
        f"load average when done: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores).\n"
    )
    print(
        "| rows | tool | validate + profile (in memory) | its CPU seconds "
        "| end to end (read file + validate) "
        f"| Shipyard speed-up vs the faster peer (target {TARGET:.0f}x) |"
    )
    print("|---|---|---|---|---|---|")
    print("\n".join(rows_out))
    print("\nFailing rows per check (Shipyard | Great Expectations | pandera):\n")
    print("| rows | check | Shipyard | GX | pandera |")
    print("|---|---|---|---|---|")
    print("\n".join(agreement))


if __name__ == "__main__":
    main()
