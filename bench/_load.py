"""Load generation for the serving bench: wrk with a Lua script, or a small httpx fallback."""

from __future__ import annotations

import multiprocessing
import re
import shutil
import ssl
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

LUA_SCRIPT = Path(__file__).with_name("post.lua")
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@dataclass(frozen=True)
class LoadResult:
    """What one load run measured."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    failures: int


def find_wrk(install: bool = True) -> str | None:
    """The wrk binary, installing it with apt-get when missing and allowed."""
    found = shutil.which("wrk")
    if found or not install or shutil.which("apt-get") is None:
        return found
    subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, check=False)
    return shutil.which("wrk")


def _millis(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if match is None:
        raise ValueError(f"cannot read wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> LoadResult:
    """Read requests/s, p50, p99 and failures from ``wrk --latency`` output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _millis(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _millis(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    failures = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        failures += int(non_2xx.group(1))
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if socket_errors:
        failures += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return LoadResult(rps, p50, p99, total, failures)


def run_wrk(
    wrk: str,
    url: str,
    body_file: Path,
    key: str,
    connections: int,
    seconds: float,
    content_type: str = "application/json",
) -> LoadResult:
    """Drive ``url`` with wrk (one thread) posting ``body_file`` for ``seconds``."""
    command = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(LUA_SCRIPT),
        url,
        "--",
        str(body_file),
        key,
        content_type,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60)
    return parse_wrk(done.stdout)


def _client_loop(
    url: str,
    body: bytes,
    headers: dict[str, str],
    until: float,
    latencies: list[float],
    ca_file: str | None = None,
) -> None:
    verify = ssl.create_default_context(cafile=ca_file) if ca_file else True
    with httpx.Client(headers=headers, timeout=10, verify=verify) as http:
        while time.perf_counter() < until:
            started = time.perf_counter()
            response = http.post(url, content=body)
            latencies.append(time.perf_counter() - started if response.is_success else -1.0)


def _process_loop(
    url: str,
    body: bytes,
    headers: dict[str, str],
    clients: int,
    seconds: float,
    out: object,
    ca_file: str | None = None,
) -> None:
    until = time.perf_counter() + seconds
    per_client: list[list[float]] = [[] for _ in range(clients)]
    threads = [
        threading.Thread(target=_client_loop, args=(url, body, headers, until, latencies, ca_file))
        for latencies in per_client
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put([value for latencies in per_client for value in latencies])  # type: ignore[attr-defined]


def run_httpx(
    url: str,
    body_file: Path,
    key: str,
    connections: int,
    seconds: float,
    content_type: str = "application/json",
    ca_file: str | None = None,
) -> LoadResult:
    """A slower stand-in for wrk: two processes of httpx clients, one connection each
    (kept alive), trusting ``ca_file`` for an https ``url``."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": content_type}
    body = body_file.read_bytes()
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = min(2, connections)
    shares = [connections // processes + (i < connections % processes) for i in range(processes)]
    workers = [
        context.Process(target=_process_loop, args=(url, body, headers, n, seconds, queue, ca_file))
        for n in shares
    ]
    for worker in workers:
        worker.start()
    values = [value for _ in workers for value in queue.get(timeout=seconds + 60)]
    for worker in workers:
        worker.join()
    ok = sorted(value for value in values if value >= 0)
    if not ok:
        return LoadResult(0.0, float("nan"), float("nan"), len(values), len(values))
    p99 = ok[min(len(ok) - 1, int(len(ok) * 0.99))]
    return LoadResult(
        len(ok) / seconds,
        statistics.median(ok) * 1e3,
        p99 * 1e3,
        len(values),
        len(values) - len(ok),
    )
