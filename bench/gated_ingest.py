"""Gated ingest bench: peak memory and time of ingesting a file through a contract.

    python bench/gated_ingest.py            # CSVs of 1, 4 and 8 million rows (50-400 MB), 3 runs
    python bench/gated_ingest.py --quick    # 500,000 rows, 1 run

Each case runs in its own process and reports that process's peak RSS. The gate (with
``--on-fail quarantine``: validate, then split clean and failing rows into two versions)
is compared in the same run with the raw limit of the previous approach, which began by
reading the whole file into one Arrow table (``pyarrow.csv.read_csv``), and with the
interpreter and imports alone. Reading the whole file grows with the file; the gate's peak
grows only by the exact unique check's sorted values (8 bytes a row, per validating pass)
once the file passes one row group (about a million rows) of buffered output.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

CONTRACT = {
    "name": "orders",
    "columns": {
        "id": {"unique": True},
        "amount": {"range": {"min": 0}},
        "country": {"allowed_values": ["DE", "FR", "US"]},
    },
}


def write_csv(path: Path, rows: int) -> None:
    """Orders with one bad country in 10,000 rows, written in chunks."""
    with path.open("w") as out:
        out.write("id,amount,country,note\n")
        for start in range(0, rows, 500_000):
            ids = np.arange(start, min(start + 500_000, rows))
            country = np.array(["DE", "FR", "US"])[ids % 3].astype(object)
            country[ids % 10_000 == 7] = "XX"
            amount = (ids % 997) * 0.5
            lines = [
                f"{i},{a},{c},order number {i} from the bench"
                for i, a, c in zip(ids.tolist(), amount.tolist(), country.tolist(), strict=True)
            ]
            out.write("\n".join(lines) + "\n")


def child(case: str, path: str, home: str) -> None:
    """One measured case; prints seconds and peak RSS (MiB) as JSON."""
    began = time.perf_counter()
    if case == "gate":
        from shipyard.config import Settings
        from shipyard.contracts import apply, ingest
        from shipyard.platform import Platform
        from shipyard.security import bootstrap, context_for

        platform = Platform.open(Settings(home=Path(home)))
        bootstrap(platform)
        ctx = context_for(platform, "admin")
        apply(ctx, CONTRACT)
        began = time.perf_counter()
        outcome = ingest(ctx, "orders", Path(path), "orders", on_fail="quarantine")
        assert outcome.quarantine is not None and outcome.dataset is not None
        rows = outcome.dataset.rows + outcome.quarantine.rows
    elif case == "read-whole":
        import pyarrow.csv as pcsv

        rows = pcsv.read_csv(path).num_rows
    else:
        import shipyard.contracts  # noqa: F401

        rows = 0
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(orjson.dumps({"seconds": seconds, "peak_mib": peak, "rows": rows}).decode())


def measure(case: str, path: Path, root: Path, run: int) -> dict[str, float]:
    home = root / f"home-{case}-{path.stem}-{run}"
    done = subprocess.run(
        [sys.executable, __file__, "--child", case, str(path), str(home)],
        capture_output=True,
    )
    if done.returncode != 0:
        sys.exit(f"case {case!r} failed:\n{done.stderr.decode()}")
    result: dict[str, float] = orjson.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, nargs="*")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--child", nargs=3, metavar=("CASE", "PATH", "HOME"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    sizes = args.rows or ([500_000] if args.quick else [1_000_000, 4_000_000, 8_000_000])
    runs = args.runs or (1 if args.quick else 3)
    print(f"gated ingest bench: CSV orders, quarantine on, medians of {runs} runs\n")
    print("| rows | file | case | seconds | peak RSS | rows/s |")
    print("|---:|---:|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="shipyard-gate-bench-") as tmp:
        root = Path(tmp)
        for rows in sizes:
            path = root / f"orders-{rows}.csv"
            write_csv(path, rows)
            size = path.stat().st_size / 2**20
            for case, label in (
                ("imports", "interpreter + imports alone"),
                ("read-whole", "read whole file into Arrow (previous gate's first step)"),
                ("gate", "Shipyard gated ingest, streamed (validate + quarantine split)"),
            ):
                results = [measure(case, path, root, run) for run in range(runs)]
                seconds = statistics.median(r["seconds"] for r in results)
                peak = statistics.median(r["peak_mib"] for r in results)
                speed = f"{rows / seconds:,.0f}" if case != "imports" else ""
                print(
                    f"| {rows:,} | {size:,.0f} MiB | {label} | {seconds:.2f} | "
                    f"{peak:,.0f} MiB | {speed} |"
                )
            path.unlink()


if __name__ == "__main__":
    main()
