"""``shipyard cost``: what jobs and endpoints cost over a period."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, table
from shipyard.schemas.durations import parse_duration

if TYPE_CHECKING:
    from shipyard.schemas.cost import CostReport, Recommendation


def cost(
    by: Annotated[
        str, typer.Option("--by", help="Group by resource, principal or pipeline.")
    ] = "resource",
    since: Annotated[
        str, typer.Option("--since", help="Period back from now (90s, 30m, 1h, 7d, 2w).")
    ] = "7d",
    as_json: JsonOption = False,
) -> None:
    """What jobs (training, tuning, batch, AutoML) and endpoints cost, priced with the
    settings' price_cpu_hour and price_gb_hour (only resources you may describe)."""
    report = STATE.client().cost.report(by=by, since=since)
    emit(report, as_json, lambda: show(report))


def show(report: CostReport) -> None:
    prices = report.prices
    title = (
        f"Cost by {report.by} since {report.since:%Y-%m-%d %H:%M} UTC "
        f"({prices.currency}; {prices.cpu_hour:g}/CPU-hour, {prices.gb_hour:g}/GB-hour)"
    )
    table(
        title,
        [report.by, "resources", "wall s", "CPU s", "GB-hours", "cost"],
        [
            (
                line.key,
                line.resources,
                f"{line.wall_seconds:.1f}",
                f"{line.cpu_seconds:.1f}",
                f"{line.gb_hours:.6f}",
                _money(line.cost),
            )
            for line in report.lines
        ],
    )
    if report.note:
        console.print(report.note)
    console.print(f"total: {_money(report.total)} {prices.currency}")


def _money(value: float) -> str:
    return f"{value:.6f}" if value < 0.01 else f"{value:.2f}"


def recommend(
    name: Annotated[str, typer.Argument(help="Endpoint name.")],
    target_p99: Annotated[
        str, typer.Option("--target-p99", help="Latency the p99 must meet (50ms, 0.2s).")
    ] = "50ms",
    workers: Annotated[
        list[int] | None, typer.Option("--workers", help="Worker counts to try (default 1..cores).")
    ] = None,
    batch_size: Annotated[
        list[int] | None,
        typer.Option("--batch-size", help="Max batch sizes to try; 0 is no batching (0, 32)."),
    ] = None,
    max_wait: Annotated[str, typer.Option(help="Batching's max delay.")] = "2ms",
    seconds: Annotated[float, typer.Option(help="Load-test seconds per candidate.")] = 5.0,
    concurrency: Annotated[int, typer.Option(help="Concurrent callers.")] = 8,
    as_json: JsonOption = False,
) -> None:
    """Load-test a private copy of the endpoint (127.0.0.1, capture off) per configuration
    with its captured request mix, and recommend the cheapest meeting the target p99."""
    found = STATE.client().cost.recommend(
        name,
        target_p99_ms=parse_duration(target_p99, field="target_p99") * 1000,
        workers=workers,
        batch_sizes=batch_size,
        max_wait_ms=parse_duration(max_wait, field="max_wait") * 1000,
        seconds=seconds,
        concurrency=concurrency,
    )
    emit(found, as_json, lambda: show_recommendation(found))


def show_recommendation(found: Recommendation) -> None:
    table(
        f"{found.endpoint}: {found.requests_in_mix} requests from {found.request_mix}, "
        f"{found.seconds_per_candidate:g} s each, {found.concurrency} callers; "
        f"target p99 {found.target_p99_ms:g} ms",
        ["workers", "batch", "p50 ms", "p99 ms", "req/s", "errors", "MiB", "per hour", "per 1M"],
        [
            (
                c.workers,
                f"{c.max_batch_size}/{c.max_wait_ms:g}ms" if c.max_batch_size else "off",
                f"{c.p50_ms:.2f}",
                f"{c.p99_ms:.2f}" + (" *" if c.meets_target else ""),
                f"{c.throughput:.0f}",
                c.errors,
                f"{c.memory_mb:.0f}",
                f"{c.cost_per_hour:.4f}",
                "" if c.cost_per_million is None else f"{c.cost_per_million:.4f}",
            )
            for c in found.candidates
        ],
    )
    best = found.recommended
    if best is None:
        console.print(f"no configuration met p99 <= {found.target_p99_ms:g} ms")
        return
    batching = (
        f"batching up to {best.max_batch_size} rows, {best.max_wait_ms:g} ms"
        if best.max_batch_size
        else "no batching"
    )
    console.print(
        f"recommended: {best.workers} worker(s), {batching}: p99 {best.p99_ms:.2f} ms, "
        f"{best.cost_per_hour:.4f} {found.currency}/hour"
    )
