"""Batch transform bench: a Shipyard job against one in-memory ``model.predict`` call.

    python bench/batch_transform.py            # 1M and 5M rows, 3 runs each, medians
    python bench/batch_transform.py --quick    # 1M and 5M rows, 1 run each
    python bench/batch_transform.py --runs 5   # more runs per size on a noisy machine

The dataset has an id and 10 float features; the model is LightGBM (200 trees,
31 leaves) trained on a 50k-row sample. The limit loads the whole dataset into
a pandas DataFrame in a fresh process and times ``booster.predict`` over it
(LightGBM uses every core). The job is measured end to end, submit to
registered output version: the job process's start-up (a fork of the warm job host, model
load), download, chunked reads, scoring (LightGBM: one thread per core in the job
process), the chunk ledger, the output Parquet, its profile and registration.
Peak memory is the largest summed RSS of the job's whole process tree, sampled
every 20 ms, next to the limit process's peak RSS (VmHWM). Limit and job runs
alternate, so drifting machine load hits both alike. The first job of the bench process
also starts the job host (interpreter, Shipyard and model-library imports, as a job of a
fresh ``shipyard batch-transform`` CLI process does) and is shown on its own row; the timed
runs are later jobs, as under a running ``shipyard server``. RSS counts pages shared with
the host in full.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _scoring_setup import register, register_dataset, train_lightgbm, write_numeric_dataset
from shipyard.client import Client
from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import bootstrap

TREES = 200
_LIMIT = """
import sys, time
import lightgbm, pyarrow.parquet as pq
booster = lightgbm.Booster(model_file=sys.argv[2])
frame = pq.read_table(sys.argv[1], columns=[f"f{i}" for i in range(10)]).to_pandas()
started = time.perf_counter()
booster.predict(frame)
seconds = time.perf_counter() - started
peak = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(seconds, int(peak) / 1024)
"""


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, stack = [], list(children.get(root, []))
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class TreeSampler:
    """Peak summed RSS of this process's descendants while running."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            total = sum(_rss_mib(pid) for pid in _descendants(os.getpid()))
            self.peak = max(self.peak, total)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def measure(client: Client, rows: int, run: int) -> tuple[float, float]:
    """Rows/s and peak tree RSS (MiB) of one job, submit to registered output."""
    with TreeSampler() as sampler:
        started = time.perf_counter()
        job = client.batch.transform(
            "bench@1",
            f"rows-{rows}@1",
            f"scored-{rows}-{run + 1}",
            keep_columns=["id"],
            chunk_rows=100_000,
            timeout=3600,
        )
        seconds = time.perf_counter() - started
    assert job.status == "succeeded", job.message
    return rows / seconds, sampler.peak


def limit(data: Path, model: Path) -> tuple[float, float]:
    done = subprocess.run(
        [sys.executable, "-c", _LIMIT, str(data), str(model)],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, peak = (float(v) for v in done.stdout.split())
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run per size")
    parser.add_argument("--sizes", default="1000000,5000000", help="rows, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per size (median)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    runs = 1 if args.quick else max(1, args.runs)
    print(
        f"\nBatch transform, LightGBM {TREES} trees x 10 features, {os.cpu_count()} cores, "
        f"median of {runs} run(s)\n"
    )
    print(
        "| rows | limit rows/s (predict in memory) | job rows/s (end to end) | job / limit "
        "| paired runs job / limit | limit peak RSS MiB | job tree peak RSS MiB |"
    )
    print("|---:|---:|---:|---:|---|---:|---:|", flush=True)
    scratch = tempfile.TemporaryDirectory(
        prefix="shipyard-bench-batch-", ignore_cleanup_errors=True
    )
    with scratch as tmp:
        settings = Settings(home=Path(tmp) / "home")
        platform = Platform.open(settings)
        bootstrap(platform)
        model = train_lightgbm(TREES)
        model_file = Path(tmp) / "model.txt"
        model.booster_.save_model(str(model_file))
        register(platform, "bench", model, None)
        client = Client(settings=settings)
        for rows in sizes:
            data = Path(tmp) / f"rows-{rows}.parquet"
            write_numeric_dataset(data, rows)
            register_dataset(platform, f"rows-{rows}", data)
            limit_runs, job_runs = [], []
            cold = None
            if rows == sizes[0]:  # the first job of this process also starts the job host
                cold = measure(client, rows, -1)[0]
            for run in range(runs):  # interleaved, so drifting machine load hits both alike
                limit_runs.append(limit(data, model_file))
                job_runs.append(measure(client, rows, run))
            limit_rate = rows / statistics.median(s for s, _ in limit_runs)
            job_rate = statistics.median(r for r, _ in job_runs)
            limit_peak = max(p for _, p in limit_runs)
            job_peak = max(p for _, p in job_runs)
            paired = ", ".join(
                f"{rate * seconds / rows:.0%}"
                for (seconds, _), (rate, _) in zip(limit_runs, job_runs, strict=True)
            )
            print(
                f"| {rows:,} | {limit_rate:,.0f} | {job_rate:,.0f} | {job_rate / limit_rate:.0%} "
                f"| {paired} | {limit_peak:,.0f} | {job_peak:,.0f} |",
                flush=True,
            )
            if cold is not None:
                print(
                    f"| {rows:,} (first job of the process: job host starting) "
                    f"| {limit_rate:,.0f} | {cold:,.0f} | {cold / limit_rate:.0%} | | | |",
                    flush=True,
                )
            data.unlink()
        client.close()
        platform.close()


if __name__ == "__main__":
    main()
