"""``shipyard tune``: start a tuning job and follow it trial by trial; its trials, best
trial (registered in one command), report, and the job commands (list, show, logs, cancel).

``shipyard tune SPEC.yaml`` starts one: a first argument that is not a subcommand is a spec.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperGroup

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._follow import follow_with_progress
from shipyard.cli._jobs import job_commands, jobs_table
from shipyard.cli._output import console, emit, print_json


class _TuneGroup(TyperGroup):
    """Subcommands, and ``tune SPEC.yaml`` as ``tune start SPEC.yaml``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["start", *args]
        return super().parse_args(ctx, args)


_table = jobs_table(
    "Tuning jobs", ["name", "dataset", "run"], lambda j: (j.name, j.dataset, j.run_id)
)
tune_app = job_commands("tuning job", lambda client: client.tuning, _table)
tune_app.info.cls = _TuneGroup
tune_app.info.help = (
    "Tune a training spec's parameters: shipyard tune SPEC.yaml, then best, trials, report."
)


@tune_app.command("start")
def start(
    spec: Annotated[Path, typer.Argument(help="Tuning spec (YAML).")],
    wait: Annotated[bool, typer.Option(help="Follow the job until it ends.")] = True,
    as_json: JsonOption = False,
) -> None:
    """Start a tuning job from SPEC, showing each trial (parameters, value, best so far)."""
    client = STATE.client()
    job = client.tuning.start(spec)
    if not wait:
        emit(job, as_json, lambda: console.print(f"started tuning job [bold]{job.id}[/]"))
        return
    if as_json:
        print_json(client.tuning.wait(job.id))
        return
    console.print(f"tuning job [bold]{job.id}[/] ({job.name}) on {job.dataset}")
    done = follow_with_progress(
        lambda on_log, on_progress: client.tuning.wait(
            job.id, on_log=on_log, on_progress=on_progress
        ),
        "tuning",
    )
    console.print(f"run [bold]{done.run_id}[/]: {done.message}")


@tune_app.command()
def resume(job_id: str, as_json: JsonOption = False) -> None:
    """Start a failed, cancelled or timed-out tuning job again; finished trials are kept."""
    job = STATE.client().tuning.resume(job_id)
    emit(job, as_json, lambda: console.print(f"tuning job [bold]{job.id}[/] {job.status}"))


def _trials_table(title: str, trials: list[Any]) -> Table:
    table = Table(title=title)
    for column in ("trial", "state", "values", "params", "wall s", "CPU s", "peak MiB"):
        table.add_column(column)
    table.add_column("run")
    table.add_column("reason")
    for t in trials:
        values = ", ".join(f"{v:.6g}" for v in t.values) if t.values else ""
        params = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in t.params.items()
        )
        used = [_used(t.usage, k) for k in ("wall_seconds", "cpu_seconds", "peak_mib")]
        table.add_row(str(t.number), t.state, values, params, *used, t.run_id or "", t.reason or "")
    return table


def _used(usage: dict[str, float], key: str) -> str:
    return f"{usage[key]:.3g}" if key in usage else ""


@tune_app.command()
def trials(job_id: str, as_json: JsonOption = False) -> None:
    """Every trial: state, values, parameters, run, and why it stopped early."""
    found = STATE.client().tuning.trials(job_id)
    emit(found, as_json, lambda: console.print(_trials_table(f"Trials of {job_id}", found)))


@tune_app.command()
def best(
    job_id: str,
    register: Annotated[
        str | None, typer.Option(help="Register the best trial's model as this model name.")
    ] = None,
    trial: Annotated[int | None, typer.Option(help="The Pareto-front trial to register.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The best trial (or Pareto front); --register NAME registers its model."""
    client = STATE.client()
    if register is not None:
        version = client.tuning.register_best(job_id, register, trial)
        emit(
            version,
            as_json,
            lambda: console.print(
                f"registered [bold]{register}@{version.version}[/] from run {version.run_id}"
            ),
        )
        return
    found = client.tuning.best(job_id)
    goals = ", ".join(f"{g.metric} ({g.direction})" for g in found.objectives)

    def show() -> None:
        console.print(_trials_table(f"Best of {job_id}: {goals}", found.trials))
        if found.pruning is not None:
            console.print(found.pruning.sentence())

    emit(found, as_json, show)


@tune_app.command()
def report(
    job_id: str,
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")] = Path(
        "tuning-report.html"
    ),
) -> None:
    """Write the HTML report: optimization history, parameter importances, parallel coordinates."""
    STATE.client().tuning.report(job_id, output)
    console.print(f"wrote {output}")
