"""The job commands every kind gets (``list``, ``show``, ``logs``, ``cancel``), made from
the SDK's job group and the kind's table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, table

if TYPE_CHECKING:
    from shipyard.client import Client
    from shipyard.client._jobs import JobGroup
    from shipyard.schemas.jobs import JobInfo


def resources_text(job: JobInfo) -> str:
    """``12.3 s, 4.5 s CPU, 120 MiB`` of a job's resource record ('' before it has one)."""
    r = job.resources
    if r is None:
        return ""
    return f"{r.wall_seconds:.1f} s, {r.cpu_seconds:.1f} s CPU, {r.peak_memory_mb:.0f} MiB"


def jobs_table(
    title: str, columns: Sequence[str], cells: Callable[[Any], Sequence[object]]
) -> Callable[[Sequence[JobInfo]], None]:
    """A table of jobs: id, status, progress, the kind's ``columns``, resources, created."""

    def render(items: Sequence[JobInfo]) -> None:
        table(
            title,
            ["id", "status", "progress", *columns, "resources", "created"],
            [
                (
                    j.id,
                    j.status,
                    f"{j.progress:.0%}",
                    *cells(j),
                    resources_text(j),
                    j.created_at,
                )
                for j in items
            ],
        )

    return render


def job_commands(
    noun: str,
    group: Callable[[Client], JobGroup[Any]],
    render: Callable[[Sequence[JobInfo]], None],
) -> typer.Typer:
    """A command group for one kind of job."""
    app = typer.Typer(help=f"Inspect and cancel {noun}s.", no_args_is_help=True)

    @app.command("list")
    def list_jobs(as_json: JsonOption = False) -> None:
        items = group(STATE.client()).list()
        emit(items, as_json, lambda: render(items))

    list_jobs.__doc__ = f"Recent {noun}s."

    @app.command()
    def show(job_id: str, as_json: JsonOption = False) -> None:
        job = group(STATE.client()).get(job_id)
        emit(job, as_json, lambda: render([job]))

    show.__doc__ = f"One {noun}, with its resource record."

    @app.command()
    def logs(job_id: str) -> None:
        offset = 0
        jobs = group(STATE.client())
        while True:
            chunk = jobs.logs(job_id, offset)
            if not chunk.text:
                break
            console.print(chunk.text, end="", highlight=False, markup=False)
            offset = chunk.next_offset

    logs.__doc__ = f"The whole log of a {noun} so far."

    @app.command()
    def cancel(job_id: str, as_json: JsonOption = False) -> None:
        job = group(STATE.client()).cancel(job_id)
        emit(job, as_json, lambda: console.print(f"{noun} [bold]{job.id}[/] {job.status}"))

    cancel.__doc__ = f"Cancel a {noun}: its whole process tree ends."
    return app
