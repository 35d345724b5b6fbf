"""``shipyard cost``: what jobs and endpoints cost over a period."""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, table
from shipyard.cost import CostReport


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
