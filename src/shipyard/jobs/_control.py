"""The one job service: create a job's row, launch its worker, stop it, read its state and log.

Every kind's operations are made of these pieces, so status, pid, limits, cancel and the
resource record behave the same for training, batch transform and any later kind. A job
can be stopped from any server process on the same home: its worker's pid is in ``jobs``
and its liveness is the lock the worker holds (``_liveness``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.errors import Conflict, InvalidInput, NotFound, StorageError
from shipyard.jobs._kinds import JobKind
from shipyard.jobs._launcher import launch_worker, read_log_chunk
from shipyard.jobs._liveness import group_alive, lock_held, pid_alive
from shipyard.platform import Platform
from shipyard.schemas.jobs import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    JobInfo,
    JobLimits,
    LogChunk,
    ResourceRecord,
)
from shipyard.security import ResourceName
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import tables as t

MAIN_MODULE = "shipyard.jobs._main"
TERM_GRACE_SECONDS = 1.0
_WATCH_GRACE_SECONDS = 2.0
_RESUME_WAIT_SECONDS = 30.0
# Per job launched from this process, set once its worker's exit has been handled: a
# resume waits for it, or the old worker's exit would be taken for the new one's.
_exits: dict[str, threading.Event] = {}
_log = logging.getLogger("shipyard.jobs")


def log_path(platform: Platform, job_id: str) -> Path:
    return platform.settings.jobs_dir / f"{job_id}.log"


def parse_limits(limits: dict[str, Any] | JobLimits | None, field: str = "limits") -> JobLimits:
    """Limits from a spec or arguments; the first problem names its field."""
    if isinstance(limits, JobLimits):
        return limits
    try:
        return JobLimits.model_validate(limits or {})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidInput(message, field=where or field) from None


def new_job(
    session: Session,
    kind: JobKind,
    *,
    name: str,
    scope: str,
    principal: str,
    limits: JobLimits,
) -> j.Job:
    """Insert a pending job of ``kind`` (the kind adds its own row with the same id)."""
    row = j.Job(
        id=uuid.uuid4().hex,
        kind=kind.name,
        name=name,
        scope=scope,
        status="pending",
        progress=0.0,
        message="",
        attempts=0,
        max_retries=limits.max_retries,
        limits=limits.model_dump(mode="json", exclude_none=True),
        resources={},
        created_by=principal,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def job_row(session: Session, kind: JobKind, job_id: str) -> j.Job:
    row = session.get(j.Job, job_id)
    if row is None or row.kind != kind.name:
        raise NotFound(f"{kind.noun} {job_id!r} does not exist", field="job_id")
    return row


def job_resource(kind: JobKind) -> Callable[[Session, str], ResourceName]:
    """``sy:<kind>-job/<scope>/<id>`` (also ``sy:<kind>-job/<id>``) of a job id."""

    def resolve(session: Session, job_id: str) -> ResourceName:
        scope = session.scalar(
            sa.select(j.Job.scope).where(j.Job.id == job_id, j.Job.kind == kind.name)
        )
        return ResourceName.scoped(kind.resource_kind, scope, job_id)

    return resolve


def common_fields(row: j.Job) -> dict[str, Any]:
    """The fields every kind's info shares, from the job's row."""
    return {
        "id": row.id,
        "kind": row.kind,
        "name": row.name,
        "status": row.status,
        "progress": row.progress,
        "message": row.message,
        "attempts": row.attempts,
        "limits": JobLimits.model_validate(row.limits or {}),
        "resources": ResourceRecord.model_validate(row.resources) if row.resources else None,
        "run_id": row.run_id,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "started_at": row.started_at,
        "ended_at": row.ended_at,
    }


def describe(platform: Platform, kind: JobKind, job_id: str) -> JobInfo:
    with platform.db.session() as session:
        row = job_row(session, kind, job_id)
        return kind.describe(session, _reconciled(platform, session, row))


def _reconciled(platform: Platform, session: Session, row: j.Job) -> j.Job:
    """A running job whose worker no longer holds its lock died unrecorded (killed by the
    kernel, its server gone with it): it failed."""
    if row.status != "running" or lock_held(platform.settings.jobs_dir, row.id):
        return row
    # The row was read before the lock was tried: the worker may have recorded its outcome
    # and let go of its lock in between. A worker records before it lets go, so a row
    # still running now, after the lock was found free, is one that died unrecorded.
    died = session.execute(
        sa.update(j.Job)
        .where(j.Job.id == row.id, j.Job.status == "running")
        .values(
            status="failed",
            ended_at=utcnow(),
            message="the worker process ended without recording an outcome",
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)
    if died.rowcount == 1:  # type: ignore[attr-defined]
        end_run(session, row.run_id, "failed")
    return row


def list_jobs(platform: Platform, kind: JobKind, limit: int) -> list[JobInfo]:
    if not 1 <= limit <= 1000:
        raise InvalidInput("must be between 1 and 1000", field="limit")
    with platform.db.session() as session:
        rows = session.scalars(
            sa.select(j.Job)
            .where(j.Job.kind == kind.name)
            .order_by(j.Job.created_at.desc())
            .limit(limit)
        )
        return [kind.describe(session, row) for row in rows]


def read_log(platform: Platform, kind: JobKind, job_id: str, offset: int) -> LogChunk:
    with platform.db.session() as session:
        row = _reconciled(platform, session, job_row(session, kind, job_id))
        status, progress, message = row.status, row.progress, row.message
    return read_log_chunk(
        log_path(platform, job_id), offset, status=status, progress=progress, message=message
    )


def launch(platform: Platform, kind: JobKind, job_id: str) -> None:
    """Start the job's worker; watch it end, and stop it at its ``max_runtime`` even if the
    worker's own watchdog could not."""
    with platform.db.session() as session:
        limits = JobLimits.model_validate(job_row(session, kind, job_id).limits or {})
    timer: threading.Timer | None = None
    started: list[int] = []
    watched = _exits[job_id] = threading.Event()

    def ended(code: int) -> None:
        try:
            if timer is not None:
                timer.cancel()
            _mark_if_died(platform, job_id, code, limits, started[0] if started else None)
        finally:
            watched.set()
            if _exits.get(job_id) is watched:
                _exits.pop(job_id, None)

    try:
        process = launch_worker(
            MAIN_MODULE,
            job_id,
            platform.settings,
            log_path(platform, job_id),
            ended,
            args=(kind.worker,),
        )
    except OSError as error:
        watched.set()
        _mark_if_died(platform, job_id, -1, limits)
        raise StorageError(f"could not start the {kind.noun} worker: {error}") from None
    started.append(process.pid)
    with platform.db.session() as session:
        row = session.get(j.Job, job_id)
        if row is not None and row.status == "pending" and row.pid is None:
            row.pid = process.pid
    if limits.max_runtime is not None:
        message = f"{kind.noun} ran longer than its max_runtime of {limits.max_runtime:g} s"
        timer = threading.Timer(
            limits.max_runtime + _WATCH_GRACE_SECONDS,
            lambda: _stop_quietly(platform, job_id, "timed_out", message),
        )
        timer.daemon = True
        timer.start()


def _stop_quietly(platform: Platform, job_id: str, status: str, message: str) -> None:
    try:
        stop(platform, job_id, status, message)
    except Exception:  # the platform may be closed by now; the job's own watchdog remains
        _log.warning("could not stop job %s", job_id, exc_info=True)


def _mark_if_died(
    platform: Platform, job_id: str, exit_code: int, limits: JobLimits, pid: int | None = None
) -> None:
    """A worker that exits without recording an outcome has failed (unless the job is
    another worker's by now: resumed after this one recorded its outcome)."""
    with platform.db.session() as session:
        row = session.get(j.Job, job_id)
        if row is None or row.status in FINAL_STATUSES:
            return
        if pid is not None and row.pid is not None and row.pid != pid:
            return
        message = f"worker process exited with code {exit_code}"
        if limits.memory_mb is not None and exit_code < 0:
            message += f" (it may have exceeded its memory limit of {limits.memory_mb} MiB)"
        row.status, row.message, row.ended_at = "failed", message, utcnow()
        end_run(session, row.run_id, "failed")


def stop(platform: Platform, job_id: str, status: str, message: str) -> bool:
    """Mark an unfinished job ``status`` and end its whole process tree; False if it had
    ended already. Works from any process on the job's home."""
    with platform.db.session() as session:
        row = session.get(j.Job, job_id)
        if row is None:
            return False
        claimed = session.execute(
            sa.update(j.Job)
            .where(j.Job.id == job_id, j.Job.status.in_(ACTIVE_STATUSES))
            .values(status=status, message=message, ended_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return False
        pid, was = row.pid, row.status
    live = pid is not None and (lock_held(platform.settings.jobs_dir, job_id) or was == "pending")
    if live and pid is not None and pid_alive(pid):
        terminate_group(pid)
    with platform.db.session() as session:
        row = session.get(j.Job, job_id)
        if row is not None:
            end_run(session, row.run_id, "killed")
            if row.started_at is not None:
                record = dict(row.resources or {})
                record["wall_seconds"] = round((utcnow() - row.started_at).total_seconds(), 3)
                row.resources = record
    return True


def refuse_if_ended(platform: Platform, kind: JobKind, job_id: str) -> None:
    with platform.db.session() as session:
        row = job_row(session, kind, job_id)
        if row.status in FINAL_STATUSES:
            raise Conflict(f"{kind.noun} {job_id} already {row.status}", field="job_id")


def terminate_group(group: int) -> None:
    """SIGTERM the job's process group, SIGKILL what is left after a grace; wait until gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGTERM)
    if _wait_gone(group, TERM_GRACE_SECONDS):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)
    _wait_gone(group, TERM_GRACE_SECONDS)


def _wait_gone(group: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not group_alive(group):
            return True
        time.sleep(0.01)
    return not group_alive(group)


def end_run(session: Session, run_id: str | None, status: str) -> None:
    """End the job's run as ``status`` (killed, failed) if it is still running."""
    if run_id is None:
        return
    run = session.get(t.Run, run_id)
    if run is not None and run.status == "running":
        run.status, run.end_time = status, utcnow()


def resume(platform: Platform, kind: JobKind, job_id: str) -> None:
    """Start an ended job again (not one that succeeded): pending, then its worker launched;
    its kind's worker picks up from what the earlier attempts stored."""
    earlier = _exits.get(job_id)
    if earlier is not None:  # its exit is seen before the job is reset for the next worker
        earlier.wait(_RESUME_WAIT_SECONDS)
    with platform.db.session() as session:
        row = _reconciled(platform, session, job_row(session, kind, job_id))
        if row.status not in ("failed", "cancelled", "timed_out"):
            raise Conflict(
                f"{kind.noun} {job_id} is {row.status}; only ended, unsuccessful jobs resume",
                field="job_id",
            )
        row.status, row.message, row.ended_at, row.pid = "pending", "resuming", None, None
        row.started_at = None
    launch(platform, kind, job_id)
