"""``shipyard pipelines``: define (create, list, show), run (run, runs, run-show, resume,
cancel) and follow pipelines; ``run-show`` draws the graph with each step's status, time
and outputs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit
from shipyard.cli._paging import LimitOption, PageTokenOption, show_next_page
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.schemas.pipelines import PipelineInfo, PipelineRunInfo

app = typer.Typer(help="Pipelines: DAGs of steps with caching, conditions and triggers.")

_STYLE = {
    "succeeded": "green",
    "cached": "cyan",
    "skipped": "dim",
    "failed": "red",
    "running": "yellow",
    "cancelled": "magenta",
}


def _parameters(pairs: list[str]) -> dict[str, Any]:
    """``k=v`` pairs; each value read as YAML (numbers stay numbers)."""
    import yaml

    found: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"{pair!r} is not KEY=VALUE", field="param")
        found[key] = yaml.safe_load(value) if value else ""
    return found


def _show_pipeline(info: PipelineInfo) -> None:
    console.print(f"[bold]{info.name}[/] version {info.version} by {info.created_by}")
    if info.schedule:
        console.print(f"schedule: every {info.schedule}")
    for trigger in info.triggers:
        console.print(f"trigger: new version of dataset {trigger['dataset']}")
    if info.parameters:
        console.print("parameters: " + ", ".join(f"{k}={v}" for k, v in info.parameters.items()))
    for step in info.steps:
        after = f" <- {', '.join(step.depends_on)}" if step.depends_on else ""
        console.print(f"  {step.name} ({step.kind}){after}")


def _show_run(info: PipelineRunInfo) -> None:
    console.print(
        f"run [bold]{info.id}[/] of {info.pipeline} v{info.pipeline_version}: "
        f"{info.status} ({info.trigger}) {info.message}"
    )
    table = Table("step", "kind", "after", "status", "seconds", "outputs")
    for step in info.steps:
        style = _STYLE.get(step.status, "")
        seconds = f"{step.seconds:.1f}" if step.seconds is not None else ""
        outputs = ", ".join(f"{k}={v}" for k, v in step.outputs.items() if k != "rules")
        if step.status in ("failed", "skipped") and step.message:
            outputs = step.message
        table.add_row(
            step.name,
            step.kind,
            ", ".join(step.depends_on),
            f"[{style}]{step.status}[/]" if style else step.status,
            seconds,
            outputs[:120],
        )
    console.print(table)


@app.command("create")
def create(
    file: Annotated[Path, typer.Argument(help="Pipeline definition: YAML, or Python.")],
    as_json: JsonOption = False,
) -> None:
    """Define a pipeline (or its next version) from FILE, with the files its steps name."""
    info = STATE.client().pipelines.create(file)
    emit(info, as_json, lambda: _show_pipeline(info))


@app.command("list")
def list_(
    limit: LimitOption = None, page_token: PageTokenOption = None, as_json: JsonOption = False
) -> None:
    """Every pipeline (or one page: --limit, --page-token)."""
    found = STATE.client().pipelines.list(limit=limit, page_token=page_token)

    def show() -> None:
        table = Table("name", "version", "steps", "schedule", "created by")
        for p in found:
            table.add_row(p.name, str(p.version), str(len(p.steps)), p.schedule or "", p.created_by)
        console.print(table)

    emit(found, as_json, show)
    show_next_page(found, as_json)


@app.command("show")
def show(name: str, as_json: JsonOption = False) -> None:
    """A pipeline's steps, what each waits for, its parameters, schedule and triggers."""
    info = STATE.client().pipelines.get(name)
    emit(info, as_json, lambda: _show_pipeline(info))


@app.command("run")
def run(
    name: str,
    param: Annotated[
        list[str] | None, typer.Option("-p", "--param", help="KEY=VALUE (repeatable).")
    ] = None,
    wait: Annotated[bool, typer.Option(help="Follow the run until it ends.")] = True,
    as_json: JsonOption = False,
) -> None:
    """Start a run of NAME now."""
    client = STATE.client()
    started = client.pipelines.run(name, _parameters(param or []))
    if not wait:
        emit(started, as_json, lambda: console.print(f"started pipeline run [bold]{started.id}[/]"))
        return
    on_log = None if as_json else (lambda text: console.print(text, end="", markup=False))
    info = client.pipelines.wait(started.id, check=False, on_log=on_log)
    emit(info, as_json, lambda: _show_run(info))
    if info.status != "succeeded":
        raise typer.Exit(1)


@app.command("runs")
def runs(
    name: str,
    limit: Annotated[int, typer.Option("--limit", help="Runs a page (1-1000).")] = 50,
    page_token: PageTokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """A pipeline's runs, newest first, a page at a time."""
    found = STATE.client().pipelines.runs(name, limit, page_token)

    def show() -> None:
        table = Table("run", "status", "trigger", "started", "message")
        for r in found:
            started = r.started_at.isoformat(timespec="seconds") if r.started_at else ""
            table.add_row(r.id, r.status, r.trigger, started, r.message)
        console.print(table)

    emit(found, as_json, show)
    show_next_page(found, as_json)


@app.command("run-show")
def run_show(run_id: str, as_json: JsonOption = False) -> None:
    """A run's graph: each step's status, time and outputs."""
    info = STATE.client().pipelines.get_run(run_id)
    emit(info, as_json, lambda: _show_run(info))


@app.command("resume")
def resume(run_id: str, as_json: JsonOption = False) -> None:
    """Start a failed or cancelled run again from the step that did not finish."""
    info = STATE.client().pipelines.resume(run_id)
    emit(info, as_json, lambda: console.print(f"resumed pipeline run [bold]{info.id}[/]"))


@app.command("cancel")
def cancel(run_id: str, as_json: JsonOption = False) -> None:
    """Stop a run (and the job its running step started)."""
    info = STATE.client().pipelines.cancel(run_id)
    emit(info, as_json, lambda: console.print(f"pipeline run [bold]{info.id}[/] {info.status}"))
