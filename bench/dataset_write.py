"""Dataset write bench: ``write_version_from_batches`` against a bare Parquet write.

    python bench/dataset_write.py            # 1M rows, 5 runs each, medians
    python bench/dataset_write.py --quick    # 200k rows, 3 runs each

Two shapes: the feature-retrieval output (two int64 keys, two timestamps, nine float
features with NaNs) and the batch-transform output (id, prediction), each given as one
table and as ten batches. The limit is ``pyarrow.parquet.write_table`` of the same table
with the canonical settings (zstd 3, dictionary, statistics) to a local file: the encode a
version cannot avoid. The version write adds normalisation, the streaming profile (on a
background thread), hashing the file as it is written, and moving it into the blob store.
Runs alternate between the two, so drifting machine load hits both alike. "cpu s" is the
version write's process CPU time (all threads): on a busy machine the profile thread has no
spare core to overlap on, and CPU time shows the work done whatever the load.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from shipyard.config import Settings
from shipyard.data._parquet import CANONICAL_WRITER_OPTIONS, ROW_GROUP_ROWS
from shipyard.datasets import write_version_from_batches
from shipyard.platform import Platform


def feature_table(n: int) -> pa.Table:
    rng = np.random.default_rng(1)
    start = np.datetime64("2024-01-01T00:00:00", "us")
    cols: dict[str, object] = {
        "entity_id": rng.integers(0, 100_000, n),
        "other_id": rng.integers(0, 10**9, n),
        "event_ts": pa.array(start + rng.integers(0, 10**12, n).astype("timedelta64[us]")),
        "feature_ts": pa.array(start + rng.integers(0, 10**12, n).astype("timedelta64[us]")),
    }
    for i in range(9):
        values = rng.normal(size=n)
        values[rng.random(n) < 0.02] = np.nan
        cols[f"f{i}"] = values
    return pa.table(cols)


def prediction_table(n: int) -> pa.Table:
    rng = np.random.default_rng(2)
    return pa.table({"id": np.arange(n), "prediction": rng.random(n)})


def bare_write(table: pa.Table, path: Path) -> None:
    pq.write_table(
        table,
        path,
        row_group_size=ROW_GROUP_ROWS,
        **CANONICAL_WRITER_OPTIONS,  # type: ignore[arg-type]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows, runs = (200_000, 3) if args.quick else (1_000_000, 5)
    shapes = {"features": feature_table(rows), "predictions": prediction_table(rows)}
    print(
        f"{'shape':12} {'input':11} {'version s':>10} {'cpu s':>7} {'bare pq s':>10} {'ratio':>6}"
    )
    with tempfile.TemporaryDirectory() as home:
        platform = Platform.open(Settings(home=Path(home)))
        for shape, table in shapes.items():
            for label, parts in (("1 table", 1), ("10 batches", 10)):
                size = rows // parts
                batches = [table.slice(i * size, size) for i in range(parts)]
                ours, cpu, bare = [], [], []
                for run in range(runs):
                    start, cpu_start = time.perf_counter(), time.process_time()
                    write_version_from_batches(platform, f"{shape}-{parts}-{run}", batches)
                    ours.append(time.perf_counter() - start)
                    cpu.append(time.process_time() - cpu_start)
                    start = time.perf_counter()
                    bare_write(table, Path(home) / "bare.parquet")
                    bare.append(time.perf_counter() - start)
                a, b = statistics.median(ours), statistics.median(bare)
                c = statistics.median(cpu)
                row = f"{shape:12} {label:11} {a:10.3f} {c:7.3f} {b:10.3f} {a / b:6.2f}"
                print(row, flush=True)


if __name__ == "__main__":
    main()
