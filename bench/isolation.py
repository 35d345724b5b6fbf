"""Isolation bench: wall time of a tiny own-code job with ``network: none`` against ``host``.

    python bench/isolation.py            # 6 jobs per side
    python bench/isolation.py --quick    # 2 jobs per side

The job reads its dataset (569 rows x 6 columns) and logs one metric; the two sides run
alternately on one SQLite home with warm job starts. Measured: submit to succeeded as the
SDK sees it, and the job process's own wall time (its resource record). The isolated side
pays for staging the dataset as an Arrow file, a fresh interpreter entering the namespaces,
and reading back the channel; the ratio is taken pair by pair (one job of each side run
back to back) and reported as the median with its range.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.datasets import load_breast_cancer

from shipyard.client import Client
from shipyard.config import Settings
from shipyard.datasets import ingest
from shipyard.platform import Platform
from shipyard.sandbox._launch import sandbox_unavailable
from shipyard.security import ADMIN, bootstrap, context_for

TINY = "def main(context):\n    context.run.log_metric('rows', context.table().num_rows)\n"


def _parquet() -> bytes:
    frame = load_breast_cancer(as_frame=True).frame.iloc[:, -6:]
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return buffer.getvalue()


def _job(client: Client, network: str) -> tuple[float, float]:
    spec = {"entrypoint": "tiny.py:main", "dataset": "bc@1", "network": network}
    started = time.perf_counter()
    job = client.training.submit_code(spec, {"tiny.py": TINY})
    done = client.training.wait(job.id, poll_seconds=0.02, timeout=600)
    seen = time.perf_counter() - started
    assert done.resources is not None
    return seen, done.resources.wall_seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    runs = 2 if parser.parse_args().quick else 6
    with tempfile.TemporaryDirectory() as home:
        reason = sandbox_unavailable(Path(home))
        if reason:
            raise SystemExit(reason)
        platform = Platform.open(Settings(home=Path(home) / "home"))
        bootstrap(platform)
        ingest(context_for(platform, ADMIN), "bc", _parquet(), "bc.parquet")
        client = Client(settings=platform.settings)
        _job(client, "host"), _job(client, "none")  # warm both paths once
        seen: dict[str, list[float]] = {"host": [], "none": []}
        own: dict[str, list[float]] = {"host": [], "none": []}
        for index in range(runs):
            for network in ("host", "none") if index % 2 == 0 else ("none", "host"):
                total, wall = _job(client, network)
                seen[network].append(total)
                own[network].append(wall)
        platform.close()
    ratios = [n / h for n, h in zip(seen["none"], seen["host"], strict=True)]
    extra = [n - h for n, h in zip(own["none"], own["host"], strict=True)]
    print(f"{'side':<16}{'submit->done median s':>24}{'job wall median s':>20}  runs")
    for network in ("host", "none"):
        print(
            f"network: {network:<7}{statistics.median(seen[network]):>24.2f}"
            f"{statistics.median(own[network]):>20.2f}  {runs}"
        )
    print(
        f"none/host submit->done: median {statistics.median(ratios):.2f}x "
        f"(range {min(ratios):.2f}-{max(ratios):.2f}); job wall added: median "
        f"{statistics.median(extra):+.2f} s (range {min(extra):+.2f} to {max(extra):+.2f})"
    )


if __name__ == "__main__":
    main()
