"""``endpoints.recommend``: load-test a private copy of an endpoint in several
configurations (worker processes x adaptive batching) and recommend the cheapest one whose
p99 latency meets a target, as SageMaker Inference Recommender does.

Each candidate runs on 127.0.0.1 on its own port with the endpoint's model versions,
capture off and no link to the control plane, so the endpoint itself is untouched.
"""

from __future__ import annotations

import os

from shipyard.config import Settings
from shipyard.cost._loadtest import run_load
from shipyard.cost._mix import mix_accesses, request_mix
from shipyard.cost._private import private_copy
from shipyard.errors import InvalidInput
from shipyard.names import resource
from shipyard.schemas.cost import CandidateResult, Recommendation
from shipyard.security import RequestContext, operation

MAX_CANDIDATES = 32


def _candidate(
    settings: Settings,
    endpoint: str,
    bodies: list[bytes],
    workers: int,
    batch: int,
    wait_ms: float,
    seconds: float,
    concurrency: int,
    target_ms: float,
) -> CandidateResult:
    with private_copy(settings, endpoint, workers, batch, wait_ms) as copy:
        cpu_before, _ = copy.usage()
        result = run_load(copy.url, copy.token, bodies, seconds, concurrency)
        cpu_after, memory_mb = copy.usage()
    per_hour = workers * settings.price_cpu_hour + memory_mb / 1024 * settings.price_gb_hour
    return CandidateResult(
        workers=workers,
        max_batch_size=batch if batch > 1 else 0,
        max_wait_ms=wait_ms if batch > 1 else 0.0,
        requests=result.requests,
        errors=result.errors,
        p50_ms=round(result.p50_ms, 3),
        p99_ms=round(result.p99_ms, 3),
        throughput=round(result.throughput, 2),
        cpu_seconds=round(max(cpu_after - cpu_before, 0.0), 3),
        memory_mb=round(memory_mb, 1),
        cost_per_hour=per_hour,
        cost_per_million=per_hour / (result.throughput * 3600) * 1e6 if result.throughput else None,
        meets_target=result.errors == 0 and result.requests > 0 and result.p99_ms <= target_ms,
    )


@operation(
    "endpoints:RecommendConfiguration",
    lambda name: resource("endpoint", name),
    uses=lambda session, name: mix_accesses(session, name),
    mutating=False,
)
def recommend_configuration(
    ctx: RequestContext,
    name: str,
    target_p99_ms: float = 50.0,
    workers: list[int] | None = None,
    batch_sizes: list[int] | None = None,
    max_wait_ms: float = 2.0,
    seconds: float = 5.0,
    concurrency: int = 8,
) -> Recommendation:
    """Replay the endpoint's captured requests (or its model's training rows) against a
    private copy with each of ``workers`` (default 1..cores) x ``batch_sizes`` (0: no
    batching; default 0 and 32) for ``seconds`` each, and pick the cheapest meeting
    ``target_p99_ms`` with no errors."""
    cores = os.cpu_count() or 1
    counts = sorted(set(workers or range(1, cores + 1)))
    sizes = sorted(set(batch_sizes if batch_sizes is not None else [0, 32]))
    if not counts or not all(1 <= w <= 64 for w in counts):
        raise InvalidInput("worker counts must be from 1 to 64", field="workers")
    if not sizes or not all(0 <= b <= 4096 for b in sizes):
        raise InvalidInput("batch sizes must be from 0 (off) to 4096", field="batch_sizes")
    if len(counts) * len(sizes) > MAX_CANDIDATES:
        raise InvalidInput(f"at most {MAX_CANDIDATES} candidates", field="workers")
    if not 0 < target_p99_ms <= 600_000:
        raise InvalidInput("must be above 0 and at most 600000", field="target_p99_ms")
    if not 0.2 <= seconds <= 300:
        raise InvalidInput("must be from 0.2 to 300", field="seconds")
    if not 1 <= concurrency <= 256:
        raise InvalidInput("must be from 1 to 256", field="concurrency")
    if not 0 <= max_wait_ms <= 1000:
        raise InvalidInput("must be from 0 to 1000", field="max_wait_ms")
    source, bodies = request_mix(ctx.platform, name)
    settings = ctx.platform.settings
    results = [
        _candidate(settings, name, bodies, w, b, max_wait_ms, seconds, concurrency, target_p99_ms)
        for w in counts
        for b in sizes
    ]
    meeting = [r for r in results if r.meets_target]
    best = min(meeting, key=lambda r: (r.cost_per_hour, -r.throughput), default=None)
    return Recommendation(
        endpoint=name,
        target_p99_ms=target_p99_ms,
        request_mix=source,
        requests_in_mix=len(bodies),
        seconds_per_candidate=seconds,
        concurrency=concurrency,
        currency=settings.currency,
        candidates=results,
        recommended=best,
    )
