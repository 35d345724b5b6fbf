"""A short closed-loop load test: ``concurrency`` callers send the request mix for a while."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass

import httpx
import numpy as np


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float
    throughput: float
    """Answered requests per second."""


async def _load(
    url: str, token: str, bodies: list[bytes], seconds: float, concurrency: int
) -> LoadResult:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    errors = 0
    cycle = itertools.cycle(bodies)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=30.0
    ) as http:
        for body in bodies[: min(len(bodies), 2 * concurrency)]:  # warm up connections, caches
            await http.post("/invocations", content=body)
        started = time.perf_counter()
        end = started + seconds

        async def caller() -> None:
            nonlocal errors
            while time.perf_counter() < end:
                sent = time.perf_counter()
                try:
                    answer = await http.post("/invocations", content=next(cycle))
                except httpx.HTTPError:
                    errors += 1
                    continue
                if answer.status_code == 200:
                    latencies.append((time.perf_counter() - sent) * 1000)
                else:
                    errors += 1

        await asyncio.gather(*(caller() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if not latencies:
        return LoadResult(0, errors, float("inf"), float("inf"), 0.0)
    p50, p99 = np.percentile(np.asarray(latencies), [50, 99])
    return LoadResult(len(latencies), errors, float(p50), float(p99), len(latencies) / elapsed)


def run_load(
    url: str, token: str, bodies: list[bytes], seconds: float, concurrency: int
) -> LoadResult:
    """Send ``bodies`` round-robin to ``url``/invocations for ``seconds``."""
    return asyncio.run(_load(url, token, bodies, seconds, concurrency))
