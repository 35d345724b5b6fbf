"""``shipyard automl``: search model families under a budget, follow it, show the leaderboard.

``shipyard automl DATASET@V --target y --budget 10m`` starts a job (the group's default
command); ``shipyard automl leaderboard JOB`` and the job commands (list, show, logs,
cancel) inspect jobs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._follow import follow_with_progress
from shipyard.cli._jobs import job_commands, jobs_table
from shipyard.cli._output import console, emit, print_json, table

if TYPE_CHECKING:
    from shipyard.client import Transport
    from shipyard.schemas.automl import Leaderboard

_RUN = "run"


def _wait_for_job_host(transport: Transport) -> None:
    """In-process, the job host warms up before submission, as the budget starts there."""
    from shipyard.client import LocalTransport
    from shipyard.jobs._host import wait_until_warm

    if isinstance(transport, LocalTransport) and transport.platform.settings.job_start != "spawn":
        with console.status("starting the job host (the budget starts at submission)"):
            wait_until_warm(transport.platform.settings.jobs_dir / "warm-up.log")


class _StartByDefault(TyperGroup):
    """``shipyard automl DATASET ...`` means ``shipyard automl run DATASET ...``."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = [_RUN, *args]
        return super().resolve_command(ctx, args)


_table = jobs_table(
    "AutoML jobs",
    ["name", "dataset", "target", "winner", "score", "registered"],
    lambda j: (j.name, j.dataset, j.target, j.winner, j.score, j.registered),
)
app = job_commands("automl job", lambda client: client.automl, _table)
app.info.cls = _StartByDefault
app.info.help = (
    "Search model families under a wall-time budget: shipyard automl DATASET@V --target COL "
    "--budget 10m; then inspect jobs and their leaderboards."
)


def show_leaderboard(board: Leaderboard) -> None:
    """The leaderboard as a table, best first, the winner marked."""
    arrow = "higher is better" if board.higher_is_better else "lower is better"
    table(
        f"Leaderboard ({board.metric}, {arrow}; {board.trials} trials in "
        f"{board.search_seconds:.1f} s)",
        ["#", "family", board.metric, "± folds", "fit s", "predict µs/row", "size", "trials", ""],
        [
            (
                e.rank,
                e.family,
                f"{e.score:.5f}",
                f"{e.score_std:.4f}",
                f"{e.fit_seconds:.3f}",
                f"{e.predict_us_per_row:.1f}",
                _size(e.model_bytes),
                e.trials or "",
                "winner" if e.winner else "",
            )
            for e in board.entries
        ],
    )


def _size(count: int | None) -> str | None:
    if count is None:
        return None
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KiB"
    return f"{count / 1024 / 1024:.1f} MiB"


@app.command(_RUN, hidden=True)
def run(
    dataset: Annotated[str, typer.Argument(help="Dataset version, e.g. churn@3.")],
    target: Annotated[str, typer.Option(help="The column to predict.")],
    budget: Annotated[str, typer.Option(help="Wall time, submit to done: 90s, 10m, 1h.")] = "10m",
    metric: Annotated[
        str | None, typer.Option(help="Metric to optimize (default: roc_auc, log_loss or r2).")
    ] = None,
    task: Annotated[
        str | None, typer.Option(help="classification or regression (default: from the target).")
    ] = None,
    register: Annotated[
        str | None, typer.Option(help="Register the winner as the next version of this model.")
    ] = None,
    experiment: Annotated[str, typer.Option(help="Experiment of the job's runs.")] = "default",
    ensemble: Annotated[bool, typer.Option(help="Allow an ensemble of the best.")] = True,
    wait: Annotated[bool, typer.Option(help="Follow the job until it ends.")] = True,
    force: Annotated[
        bool, typer.Option("--force", help="Search even if the dataset failed validation.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Start an AutoML job and follow it: best so far, family, elapsed / budget."""
    from shipyard.client import HttpTransport

    client = STATE.client()
    if not isinstance(client.transport, HttpTransport):
        _wait_for_job_host(client.transport)
    options: dict[str, Any] = {
        "target": target,
        "budget": budget,
        "metric": metric,
        "task": task,
        "register": register,
        "experiment": experiment,
        "ensemble": ensemble,
        "force": force,
    }
    job = client.automl.start(dataset, **options)
    if not wait:
        emit(job, as_json, lambda: console.print(f"started automl job [bold]{job.id}[/]"))
        return
    if as_json:
        done = client.automl.wait(job.id)
        print_json({"job": done, "leaderboard": client.automl.leaderboard(done.id)})
        return
    console.print(
        f"automl job [bold]{job.id}[/] on {job.dataset}: {job.task} of {job.target!r}, "
        f"budget {job.budget_seconds:g} s"
    )
    done = follow_with_progress(
        lambda on_log, on_progress: client.automl.wait(
            job.id, on_log=on_log, on_progress=on_progress
        ),
        "automl",
    )
    show_leaderboard(client.automl.leaderboard(done.id))
    console.print(f"run [bold]{done.run_id}[/]: {done.message}")
    if done.registered:
        console.print(f"registered [bold]{done.registered}[/]")


@app.command()
def leaderboard(job_id: str, as_json: JsonOption = False) -> None:
    """The ranked families (and ensemble) of a succeeded automl job."""
    board = STATE.client().automl.leaderboard(job_id)
    emit(board, as_json, lambda: show_leaderboard(board))
