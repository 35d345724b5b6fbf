"""Dataset read bench: ``client.datasets.read`` over HTTP against reading the Parquet file locally.

    python bench/dataset_read.py            # 10M- and 1M-row versions, 5 runs each side
    python bench/dataset_read.py --quick    # 2M and 200k rows, 3 runs each side

The data is generated here (ids, a category, floats, a timestamp) and stored as two dataset
versions; a real ``shipyard server`` then runs in its own process on 127.0.0.1. Throughput:
rows/s of ``read`` of the large version over HTTP (the server scans the stored Parquet file
and streams Arrow IPC, the client assembles an Arrow table) against
``pyarrow.parquet.read_table`` of the very same stored file in this process, the limit a
remote read cannot beat. Runs alternate which side goes first, so drifting machine load
hits both alike; the ratio is taken per run pair and reported as median and range.
Memory: a fresh client process iterates every batch of each version (``iter_batches``),
and its peak RSS and the server's peak RSS during that read (VmHWM, reset before each read
through /proc/<pid>/clear_refs) are shown for 1M, 10M and 20M rows: flat means they do not
grow with the row count. Versions are stored in row groups of 1M rows and the server holds
about two of them (the one being sent, the next one being decoded), so a version of a
single row group peaks lower; from two row groups on, the peak stays where it is.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

BATCH = 1_000_000


def generated(rows: int) -> Iterator[pa.RecordBatch]:
    """``rows`` rows of a plausible events table, in batches of a million."""
    rng = np.random.default_rng(7)
    countries = pa.array(["FR", "DE", "ES", "IT", "NL", "PL", "SE", "PT"])
    start = np.datetime64("2024-01-01T00:00:00", "us")
    for offset in range(0, rows, BATCH):
        n = min(BATCH, rows - offset)
        yield pa.record_batch(
            {
                "id": np.arange(offset, offset + n, dtype=np.int64),
                "user_id": rng.integers(0, 1_000_000, n),
                "country": countries.take(rng.integers(0, len(countries), n)),
                "amount": rng.gamma(2.0, 30.0, n),
                "score": rng.random(n).astype(np.float32),
                "event_ts": pa.array(start + rng.integers(0, 10**13, n).astype("timedelta64[us]")),
            }
        )


def peak_rss_mb(pid: int | str = "self") -> float:
    return _status_kb(pid, "VmHWM") / 1024


def rss_mb(pid: int | str = "self") -> float:
    return _status_kb(pid, "VmRSS") / 1024


def _status_kb(pid: int | str, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {key} for process {pid}")


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def iterate(url: str, key: str, ref: str) -> None:
    """In a fresh process: iterate every batch of ``ref``; print rows, seconds and peak RSS."""
    from shipyard.client import Client

    with Client(url, api_key=key) as client:
        baseline = rss_mb()
        started, rows = time.perf_counter(), 0
        for batch in client.datasets.iter_batches(ref):
            rows += batch.num_rows
        seconds = time.perf_counter() - started
    print(json.dumps({"rows": rows, "seconds": seconds, "peak": peak_rss_mb(), "base": baseline}))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["SHIPYARD_HOME"] = str(home)
    process = subprocess.Popen(
        [sys.executable, "-m", "shipyard", "server", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


def store_versions(home: Path, sizes: dict[str, int]) -> tuple[str, dict[str, Path]]:
    """Write the versions and an admin key; the key and each version's stored file."""
    from shipyard.config import Settings
    from shipyard.datasets import find_version, write_version_from_batches
    from shipyard.platform import Platform
    from shipyard.security import ADMIN, bootstrap, context_for, create_api_key

    platform = Platform.open(Settings(home=home))
    try:
        bootstrap(platform)
        key = create_api_key(context_for(platform, ADMIN), ADMIN).token
        files = {}
        for name, rows in sizes.items():
            started = time.perf_counter()
            write_version_from_batches(platform, name, generated(rows))
            with platform.db.session() as session:
                digest = find_version(session, name, None).digest
            files[name] = platform.blobs.file_path(digest)  # type: ignore[attr-defined]
            print(f"stored {name}: {rows:,} rows in {time.perf_counter() - started:.1f} s")
        return key, files
    finally:
        platform.close()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(url: str, key: str, server: int, ref: str, path: Path, rows: int, runs: int) -> None:
    from shipyard.client import Client

    def local() -> tuple[float, float]:
        cpu, started = time.process_time(), time.perf_counter()
        table = pq.read_table(path)
        assert table.num_rows == rows
        return rows / (time.perf_counter() - started), time.process_time() - cpu

    with Client(url, api_key=key) as client:

        def remote() -> tuple[float, float]:
            cpu, served, started = time.process_time(), cpu_seconds(server), time.perf_counter()
            table = client.datasets.read(ref)
            assert table.num_rows == rows
            rate = rows / (time.perf_counter() - started)
            return rate, time.process_time() - cpu + cpu_seconds(server) - served

        remote(), local()  # warm the page cache, the digest stamps and the connection
        ratios: list[float] = []
        sides: dict[str, list[tuple[float, float]]] = {"local": [], "remote": []}
        for run in range(runs):
            if run % 2 == 0:
                here, there = local(), remote()
            else:
                there, here = remote(), local()
            sides["local"].append(here)
            sides["remote"].append(there)
            ratios.append(there[0] / here[0])
    print(f"\nread of {rows:,} rows ({runs} runs, alternating which side goes first)")
    print(f"{'side':<44}{'median rows/s':>15}{'range':>22}{'cpu s':>8}")
    for label, side in (
        ("pyarrow.parquet.read_table, local file", "local"),
        ("client.datasets.read over HTTP", "remote"),
    ):
        rates = [rate for rate, _ in sides[side]]
        cpu = statistics.median(seconds for _, seconds in sides[side])
        span = f"{min(rates) / 1e6:.2f}M - {max(rates) / 1e6:.2f}M"
        print(f"{label:<44}{statistics.median(rates) / 1e6:>14.2f}M{span:>22}{cpu:>8.2f}")
    print(
        f"ratio HTTP / local: median {statistics.median(ratios):.0%} "
        f"(range {min(ratios):.0%} - {max(ratios):.0%}; goal >= 50%)\n"
        "cpu s: median CPU time of a read (HTTP: client and server processes together)"
    )


def memory(url: str, key: str, server: int, sizes: dict[str, int]) -> None:
    print("\npeak RSS while iterating every batch (iter_batches over HTTP)")
    print(f"{'version':<12}{'rows':>12}{'client MiB':>12}{'server MiB':>12}{'rows/s':>12}")
    for name, rows in sizes.items():
        reset_peak(server)
        answer = subprocess.run(
            [sys.executable, __file__, "--iterate", url, key, name],
            capture_output=True,
            text=True,
            check=True,
        )
        measured = json.loads(answer.stdout)
        assert measured["rows"] == rows
        rate = rows / measured["seconds"]
        print(
            f"{name:<12}{rows:>12,}{measured['peak']:>12.0f}{peak_rss_mb(server):>12.0f}"
            f"{rate / 1e6:>11.2f}M"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--iterate", nargs=3, metavar=("URL", "KEY", "REF"))
    args = parser.parse_args()
    if args.iterate:
        iterate(*args.iterate)
        return
    large, small = (2_000_000, 200_000) if args.quick else (10_000_000, 1_000_000)
    runs = 3 if args.quick else 5
    sizes = {"small": small, "large": large, "double": 2 * large}
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-read-") as tmp:
        home = Path(tmp) / "home"
        key, files = store_versions(home, sizes)
        process, url = start_server(home)
        try:
            print(f"server pid {process.pid}, RSS at rest {rss_mb(process.pid):.0f} MiB")
            memory(url, key, process.pid, sizes)
            throughput(url, key, process.pid, "large", files["large"], large, runs)
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
