"""``shipyard batch-transform`` and ``shipyard batch-jobs``: score whole dataset versions."""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._follow import follow_with_progress
from shipyard.cli._jobs import job_commands, jobs_table
from shipyard.cli._output import console, emit, print_json
from shipyard.errors import InvalidInput


def _columns(value: str | None) -> list[str] | None:
    return None if value is None else [c.strip() for c in value.split(",") if c.strip()]


def batch_transform(
    model: Annotated[
        str | None, typer.Option(help="Model version: name@version or name@alias.")
    ] = None,
    input: Annotated[
        str | None, typer.Option("--input", help="Dataset version to score: name[@version].")
    ] = None,
    output: Annotated[
        str | None, typer.Option(help="Dataset the predictions become a new version of.")
    ] = None,
    keep_columns: Annotated[
        str | None, typer.Option(help="Input columns to carry through, comma-separated.")
    ] = None,
    output_columns: Annotated[
        str | None,
        typer.Option(help="Outputs to write: prediction, probabilities, probability_<class>."),
    ] = None,
    chunk_rows: Annotated[int, typer.Option(help="Rows per scored chunk.")] = 100_000,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Chunks scored at once, on threads or worker processes (default: one per core)."
        ),
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(metavar="JOB_ID", help="Resume a failed job; finished chunks are kept."),
    ] = None,
    max_runtime: Annotated[
        float | None, typer.Option(help="Seconds the job may run before it is timed out.")
    ] = None,
    memory_mb: Annotated[int | None, typer.Option(help="Memory the job may take (MiB).")] = None,
    cpus: Annotated[int | None, typer.Option(help="Cores the job may run on.")] = None,
    max_retries: Annotated[int, typer.Option(help="Retries of retryable failures.")] = 0,
    wait: Annotated[bool, typer.Option(help="Follow the job until it ends.")] = True,
    as_json: JsonOption = False,
) -> None:
    """Score a dataset version with a model into a new dataset version, in chunks."""
    client = STATE.client()
    if resume is not None:
        job = client.batch.resume(resume)
    else:
        if model is None or input is None or output is None:
            raise InvalidInput("--model, --input and --output are required", field="model")
        job = client.batch.submit(
            model,
            input,
            output,
            keep_columns=_columns(keep_columns),
            output_columns=_columns(output_columns),
            chunk_rows=chunk_rows,
            workers=workers,
            limits={
                "max_runtime": max_runtime,
                "memory_mb": memory_mb,
                "cpus": cpus,
                "max_retries": max_retries,
            },
        )
    if not wait:
        emit(job, as_json, lambda: console.print(f"started batch job [bold]{job.id}[/]"))
        return
    if as_json:
        print_json(client.batch.wait(job.id))
        return
    console.print(f"batch job [bold]{job.id}[/]: {job.model} on {job.input} -> {job.output}")
    done = follow_with_progress(
        lambda on_log, on_progress: client.batch.wait(
            job.id, on_log=on_log, on_progress=on_progress
        ),
        "scoring",
    )
    console.print(f"[bold]{done.output_version}[/]: {done.message}")


_jobs_table = jobs_table(
    "Batch transform jobs",
    ["chunks", "model", "input", "output"],
    lambda j: (
        f"{j.chunks_done}/{j.chunks_total}",
        j.model,
        j.input,
        j.output_version or j.output,
    ),
)
jobs_app = job_commands("batch transform job", lambda client: client.batch, _jobs_table)
