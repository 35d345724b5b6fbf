"""``shipyard train`` and ``shipyard jobs``: training jobs with streamed logs and progress."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._follow import follow_with_progress
from shipyard.cli._output import console, emit, print_json, table
from shipyard.client._training import read_spec
from shipyard.jobs import TrainingJobInfo

jobs_app = typer.Typer(help="Inspect training jobs.", no_args_is_help=True)


def train(
    spec: Annotated[Path, typer.Argument(help="Training spec (YAML).")],
    wait: Annotated[bool, typer.Option(help="Follow the job until it ends.")] = True,
    force: Annotated[
        bool, typer.Option("--force", help="Train even if the dataset failed validation.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Train a model from SPEC in a worker process, streaming its log and progress."""
    client = STATE.client()
    job = client.training.submit(read_spec(spec) | {"force": True} if force else spec)
    if not wait:
        emit(job, as_json, lambda: console.print(f"started training job [bold]{job.id}[/]"))
        return
    if as_json:
        print_json(client.training.wait(job.id))
        return
    console.print(f"training job [bold]{job.id}[/] ({job.name}) on {job.dataset}")
    done = follow_with_progress(
        lambda on_log, on_progress: client.training.wait(
            job.id, on_log=on_log, on_progress=on_progress
        ),
        "training",
    )
    console.print(f"run [bold]{done.run_id}[/]: {done.message}")


def _jobs_table(items: list[TrainingJobInfo]) -> None:
    table(
        "Training jobs",
        ["id", "name", "status", "progress", "dataset", "run", "created"],
        [
            (j.id, j.name, j.status, f"{j.progress:.0%}", j.dataset, j.run_id, j.created_at)
            for j in items
        ],
    )


@jobs_app.command("list")
def list_jobs(as_json: JsonOption = False) -> None:
    """Recent training jobs."""
    items = STATE.client().training.list()
    emit(items, as_json, lambda: _jobs_table(items))


@jobs_app.command()
def show(job_id: str, as_json: JsonOption = False) -> None:
    """One training job."""
    job = STATE.client().training.get(job_id)
    emit(job, as_json, lambda: _jobs_table([job]))


@jobs_app.command()
def logs(job_id: str) -> None:
    """The whole log of a training job so far."""
    offset = 0
    while True:
        chunk = STATE.client().training.logs(job_id, offset)
        if not chunk.text:
            break
        console.print(chunk.text, end="", highlight=False, markup=False)
        offset = chunk.next_offset
