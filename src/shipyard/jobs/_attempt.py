"""What a kind's worker function gets in the job process: the job, its log, progress, run.

A worker trains or scores, then records its outcome with ``succeed`` in the same
transaction as what it registers, so a job cancelled or timed out meanwhile registers
nothing: its status is no longer ``running`` and the transaction rolls back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.errors import ShipyardError, StorageError
from shipyard.logs import FILE_ONLY
from shipyard.platform import Platform
from shipyard.store.metadata import job_tables as j

if TYPE_CHECKING:
    from shipyard.jobs._remote import RemoteWork


_log = logging.getLogger("shipyard.jobs.log")


class RetryableError(ShipyardError, RuntimeError):
    """A failure worth another attempt (the job's ``max_retries`` says how many)."""


RETRYABLE: tuple[type[BaseException], ...] = (RetryableError, StorageError)


class JobStopped(ShipyardError, RuntimeError):
    """The job was cancelled, timed out or failed by its limits while this attempt ran."""


def log(message: str) -> None:
    """A line of the job's log (the job process's stdout), with the time to the millisecond."""
    now = time.time()
    stamp = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"
    print(f"{stamp} {message}", flush=True)
    level = logging.ERROR if message.startswith("failed") else logging.INFO
    _log.log(level, "%s", message, extra=FILE_ONLY)


class JobAttempt:
    """One attempt at a job, as its kind's worker sees it."""

    def __init__(self, platform: Platform, job_id: str, attempt: int, principal: str) -> None:
        self.platform, self.id, self.attempt, self.principal = platform, job_id, attempt, principal
        self.run_id: str | None = None
        self.measure: Callable[[], dict[str, Any]] | None = None
        self.remote: RemoteWork | None = None
        """The job's Ray executor, when its work runs there; None: in this process."""

    def log(self, message: str) -> None:
        log(message)

    def progress(self, fraction: float, stage: str) -> None:
        """Record progress (below 1 until the job succeeds) and what it is doing."""
        log(f"[{fraction:4.0%}] {stage}")
        self.update(progress=round(min(max(fraction, 0.0), 0.99), 3), message=stage)

    def update(self, **fields: object) -> None:
        """Set fields of the job's row while it runs (nothing once it has ended)."""
        with self.platform.db.session() as session:
            session.execute(
                sa.update(j.Job)
                .where(j.Job.id == self.id, j.Job.status == "running")
                .values(**fields)
                .execution_options(synchronize_session=False)
            )

    def attach_run(self, session: Session, run_id: str) -> None:
        """The run this attempt logs to: it gets the job's system metrics, and is ended as
        killed if the job is stopped."""
        self.run_id = run_id
        self._claim(session, run_id=run_id)

    def succeed(self, session: Session, message: str) -> None:
        """Mark the job succeeded in the caller's transaction (with what it registers), its
        resource record with it."""
        record = {} if self.measure is None else {"resources": self.measure()}
        self._claim(
            session, status="succeeded", progress=1.0, message=message, ended_at=utcnow(), **record
        )

    def _claim(self, session: Session, **values: object) -> None:
        updated = session.execute(
            sa.update(j.Job)
            .where(j.Job.id == self.id, j.Job.status == "running")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if updated.rowcount != 1:  # type: ignore[attr-defined]
            raise JobStopped("the job was stopped while it ran")
