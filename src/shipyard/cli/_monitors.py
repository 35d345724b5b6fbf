"""``shipyard monitors``: create, list, show, run one window, history, report, delete."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, table
from shipyard.cli._paging import LimitOption, PageTokenOption, show_next_page
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.schemas.monitoring import MonitorInfo, MonitorRunInfo

app = typer.Typer(
    help="Monitors: drift, quality and estimated performance of an endpoint's traffic.",
    no_args_is_help=True,
)


def _time(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{value!r} is not an ISO time such as 2026-12-06T10:00:00+00:00", field=field
        ) from None


def _show(info: MonitorInfo) -> None:
    console.print(
        f"[bold]monitor {info.name}[/] on endpoint {info.endpoint}: every "
        f"{info.schedule_seconds} s from {info.anchor.isoformat()}, checks "
        f"{', '.join(info.kinds)}, baseline {info.baseline or 'training data (lineage)'}, "
        f"created by {info.created_by}, {info.runs} runs"
    )
    if info.last_run is not None:
        _runs([info.last_run], "Last run")


def _runs(runs: list[MonitorRunInfo], title: str) -> None:
    table(
        title,
        ["run", "window start", "window end", "status", "trigger", "requests", "summary"],
        [
            (
                r.number,
                r.window_start,
                r.window_end,
                r.status if not r.message else f"{r.status}: {r.message}",
                r.trigger,
                r.requests,
                ", ".join(
                    f"{k} {v:.4g}" for k, v in r.summary.items() if isinstance(v, int | float)
                ),
            )
            for r in runs
        ],
    )


@app.command("create")
def create(
    name: str,
    endpoint: Annotated[str, typer.Option("--endpoint", help="The endpoint to watch.")],
    baseline: Annotated[
        str | None,
        typer.Option(help="Dataset version to compare with (D@v); default: training data."),
    ] = None,
    schedule: Annotated[str, typer.Option(help="Window length: 30s, 15m, 1h, 1d.")] = "1h",
    kinds: Annotated[
        str,
        typer.Option(help="Comma-separated: data, prediction, quality, estimated, attribution."),
    ] = "data,prediction,quality",
    as_json: JsonOption = False,
) -> None:
    """Watch ENDPOINT's captured traffic each window against a baseline."""
    chosen = [k.strip() for k in kinds.split(",") if k.strip()]
    info = STATE.client().monitors.create(
        name, endpoint=endpoint, schedule=schedule, kinds=chosen, baseline=baseline
    )
    emit(info, as_json, lambda: _show(info))


@app.command("list")
def list_monitors(
    endpoint: Annotated[str | None, typer.Option(help="Only this endpoint's.")] = None,
    limit: LimitOption = None,
    page_token: PageTokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every monitor, with its last run (or one page: --limit, --page-token)."""
    items = STATE.client().monitors.list(endpoint, limit=limit, page_token=page_token)
    emit(
        items,
        as_json,
        lambda: table(
            "Monitors",
            ["name", "endpoint", "every (s)", "kinds", "baseline", "runs", "last status"],
            [
                (
                    m.name,
                    m.endpoint,
                    m.schedule_seconds,
                    ",".join(m.kinds),
                    m.baseline or "(lineage)",
                    m.runs,
                    m.last_run.status if m.last_run else None,
                )
                for m in items
            ],
        ),
    )
    show_next_page(items, as_json)


@app.command("show")
def show(name: str, as_json: JsonOption = False) -> None:
    """A monitor's definition and last run."""
    info = STATE.client().monitors.get(name)
    emit(info, as_json, lambda: _show(info))


@app.command("run")
def run(
    name: str,
    window_start: Annotated[
        str | None, typer.Option("--window-start", help="ISO time; with --window-end.")
    ] = None,
    window_end: Annotated[str | None, typer.Option("--window-end", help="ISO time.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Run one window now (default: the schedule's last whole window)."""
    result = STATE.client().monitors.run(
        name,
        window_start=_time(window_start, "window_start"),
        window_end=_time(window_end, "window_end"),
    )
    emit(result, as_json, lambda: _runs([result], f"Run of {name}"))


@app.command("history")
def history(
    name: str,
    limit: Annotated[int, typer.Option(help="At most this many runs.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """A monitor's runs, newest first."""
    runs = STATE.client().monitors.history(name, limit=limit)
    emit(runs, as_json, lambda: _runs(runs, f"Runs of {name}"))


@app.command("report")
def report(
    name: str,
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write the HTML to.")],
    run_number: Annotated[
        int | None, typer.Option("--run", help="Run number (default: the latest).")
    ] = None,
) -> None:
    """Write a run's self-contained HTML report to a file."""
    STATE.client().monitors.report(name, out, run=run_number)
    console.print(f"wrote {out}")


@app.command("delete")
def delete(name: str, as_json: JsonOption = False) -> None:
    """Delete a monitor and its runs."""
    info = STATE.client().monitors.delete(name)
    emit(info, as_json, lambda: console.print(f"deleted monitor {info.name}"))
