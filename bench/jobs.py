"""Job overhead bench: submit-to-running and cancel-to-gone latency of own-code training jobs.

    python bench/jobs.py            # 20 jobs per side
    python bench/jobs.py --quick    # 5 jobs per side

Sides, alternated job by job: the SDK in this process (embedded) and over HTTP against a
live server on 127.0.0.1, both on one SQLite home with warm job starts; and the raw limit,
a bare ``python`` child in its own session that says it is ready on a pipe, then SIGTERM.
Submit-to-running is measured from the submit call to the job's row reading ``running``
(polled every 2 ms in the metadata store, the same for both sides); cancel-to-gone from
the cancel call until it returned with the job's process group gone.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import uvicorn
from sklearn.datasets import load_breast_cancer

from shipyard.api import create_app
from shipyard.client import Client, HttpTransport
from shipyard.config import Settings
from shipyard.datasets import ingest
from shipyard.jobs._liveness import group_alive
from shipyard.platform import Platform
from shipyard.security import ADMIN, bootstrap, context_for, issue_admin_key_if_none
from shipyard.store.metadata import job_tables as j

WAIT = "import time\n\ndef main(context):\n    while True:\n        time.sleep(0.05)\n"
RAW = "import sys, time\nprint('ready', flush=True)\ntime.sleep(600)\n"


def _server(platform: Platform) -> tuple[uvicorn.Server, str]:
    config = uvicorn.Config(create_app(platform), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return server, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"


def _status(platform: Platform, job_id: str) -> tuple[str, int | None]:
    with platform.db.session() as session:
        row = session.get(j.Job, job_id)
        assert row is not None
        return row.status, row.pid


def _job_once(platform: Platform, client: Client) -> tuple[float, float]:
    started = time.perf_counter()
    job = client.training.submit_code(
        {"entrypoint": "train.py:main", "dataset": "bc@1"}, {"train.py": WAIT}
    )
    while True:
        status, pid = _status(platform, job.id)
        if status == "running":
            break
        if status not in ("pending",):
            raise RuntimeError(f"job {job.id} ended {status}")
        time.sleep(0.002)
    running = time.perf_counter() - started
    started = time.perf_counter()
    client.training.cancel(job.id)
    gone = time.perf_counter() - started
    assert pid is not None and not group_alive(pid)
    return running, gone


def _raw_once() -> tuple[float, float]:
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", RAW], stdout=subprocess.PIPE, start_new_session=True
    )
    assert child.stdout is not None
    child.stdout.readline()
    running = time.perf_counter() - started
    started = time.perf_counter()
    os.killpg(child.pid, signal.SIGTERM)
    child.wait()
    gone = time.perf_counter() - started
    child.stdout.close()
    return running, gone


def _quantiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    jobs = 5 if parser.parse_args().quick else 20
    with tempfile.TemporaryDirectory() as home:
        platform = Platform.open(Settings(home=Path(home)))
        bootstrap(platform)
        frame = load_breast_cancer(as_frame=True).frame
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
        ingest(context_for(platform, ADMIN), "bc", buffer.getvalue(), "bc.parquet")
        key = issue_admin_key_if_none(platform)
        assert key is not None
        server, url = _server(platform)
        sides: dict[str, Callable[[], tuple[float, float]]] = {
            "raw python child": _raw_once,
            "embedded SDK": lambda: _job_once(platform, Client(settings=platform.settings)),
            "HTTP SDK": lambda: _job_once(
                platform, Client(transport=HttpTransport(url, key.token))
            ),
        }
        for side in sides.values():  # warm the job host and the server
            side()
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
        names = list(sides)
        for number in range(jobs):
            for name in names if number % 2 == 0 else reversed(names):
                results[name].append(sides[name]())
        server.should_exit = True
        platform.close()
    raw_running = _quantiles([r for r, _ in results["raw python child"]])[0]
    raw_gone = _quantiles([g for _, g in results["raw python child"]])[0]
    print(f"\nJob overhead, {jobs} jobs per side (ms; x = median over the raw child's median)")
    print(
        f"{'side':<18} {'submit->running p50':>20} {'p95':>8} {'cancel->gone p50':>18} {'p95':>8}"
    )
    for name, values in results.items():
        run50, run95 = _quantiles([r for r, _ in values])
        gone50, gone95 = _quantiles([g for _, g in values])
        print(
            f"{name:<18} {run50 * 1000:>12.1f} ({run50 / raw_running:4.1f}x) {run95 * 1000:>8.1f} "
            f"{gone50 * 1000:>10.1f} ({gone50 / raw_gone:4.1f}x) {gone95 * 1000:>8.1f}"
        )


if __name__ == "__main__":
    main()
