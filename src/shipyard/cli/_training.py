"""``shipyard train`` and ``shipyard jobs``: training jobs with streamed logs and progress."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._follow import follow_with_progress
from shipyard.cli._jobs import job_commands, jobs_table
from shipyard.cli._output import console, emit, print_json


def train(
    spec: Annotated[Path, typer.Argument(help="Training spec (YAML).")],
    wait: Annotated[bool, typer.Option(help="Follow the job until it ends.")] = True,
    force: Annotated[
        bool, typer.Option("--force", help="Train even if the dataset failed validation.")
    ] = False,
    script: Annotated[
        Path | None,
        typer.Option(help="Your own training code: run its main(context) on the spec's data."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Train a model from SPEC in a worker process, streaming its log and progress.

    A spec with ``entrypoint: train.py:main`` (or --script) runs your own code.
    """
    from shipyard.client._training import code_files, read_spec

    client = STATE.client()
    if force or script is not None or "entrypoint" in read_spec(spec):
        body = read_spec(spec) | ({"force": True} if force else {})
        if script is not None or "entrypoint" in body:
            body, files = code_files(body, spec.parent, script)
            job = client.training.submit_code(body, files)
        else:
            job = client.training.submit(body)
    else:
        job = client.training.submit(spec)
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


_jobs_table = jobs_table(
    "Training jobs",
    ["name", "dataset", "run"],
    lambda j: (j.name, j.dataset, j.run_id),
)
jobs_app = job_commands("training job", lambda client: client.training, _jobs_table)
