"""Showing a worker job's streamed log under a progress bar."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from shipyard.cli._output import console

T = TypeVar("T")


def follow_with_progress(wait: Callable[..., T], label: str) -> T:
    """Run ``wait(on_log=..., on_progress=...)`` with log lines printed above a progress bar."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(label, total=1.0)

        def on_log(text: str) -> None:
            for line in text.rstrip("\n").splitlines():
                progress.console.print(f"[dim]{line}[/]", highlight=False)

        def on_progress(fraction: float, message: str) -> None:
            progress.update(task, completed=fraction, description=message[:40] or label)

        done = wait(on_log=on_log, on_progress=on_progress)
        progress.update(task, completed=1.0, description="done")
    return done
