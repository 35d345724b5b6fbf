"""``shipyard scheduler``: run scheduled work (monitors, alarms, pipelines) on its own."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from shipyard.cli._output import console
from shipyard.cli._servers import open_platform


def scheduler(
    poll: Annotated[
        float | None,
        typer.Option(min=0.05, help="Seconds between looks for due windows (default 1)."),
    ] = None,
    lease: Annotated[
        float | None,
        typer.Option(
            min=1.0,
            help="Seconds a window stays claimed without renewal; after that another "
            "scheduler takes over a window whose scheduler died (default 60).",
        ),
    ] = None,
) -> None:
    """Run scheduled windows in the foreground until Ctrl+C (beside servers sharing the DB)."""
    from shipyard.logs import configure_logging
    from shipyard.scheduling import LEASE_SECONDS, POLL_SECONDS, Scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    platform = open_platform()
    configure_logging(platform.settings, "scheduler")
    running = Scheduler(
        platform,
        poll_seconds=POLL_SECONDS if poll is None else poll,
        lease_seconds=LEASE_SECONDS if lease is None else lease,
    )
    done = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        console.print("stopping: finishing the windows being run (Ctrl+C again to quit now)")
        signal.signal(signal.SIGINT, signal.default_int_handler)
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    console.print(f"scheduler {running.owner} running (Ctrl+C stops)")
    running.start()
    try:
        done.wait()
    finally:
        running.stop(timeout=None)
        platform.close()
        console.print("scheduler stopped")
