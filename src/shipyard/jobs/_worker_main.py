"""What ``shipyard.jobs._main`` runs: one job, every attempt, whatever its kind."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Callable

import sqlalchemy as sa

from shipyard.clock import utcnow
from shipyard.config import Settings
from shipyard.errors import ShipyardError
from shipyard.jobs._attempt import RETRYABLE, JobAttempt, JobStopped, log
from shipyard.jobs._control import end_run
from shipyard.jobs._kinds import KINDS
from shipyard.jobs._liveness import hold_lock
from shipyard.jobs._remote import cancel_outstanding, open_remote, take_sigterm
from shipyard.jobs._watch import Sampler, apply_limits, memory_message, start_watchdog
from shipyard.logs import configure_logging
from shipyard.platform import Platform
from shipyard.schemas.jobs import JobLimits
from shipyard.security import ResourceName
from shipyard.store.metadata import job_tables as j

Worker = Callable[[JobAttempt], None]


def _worker(entry: str) -> Worker:
    module, _, function = entry.partition(":")
    found: Worker = getattr(importlib.import_module(module), function)
    return found


def _start(platform: Platform, job_id: str) -> tuple[JobLimits, float, str, int] | None:
    """Claim the job (pending or left running by a dead attempt) for this process:
    (limits, seconds of max_runtime left, principal, attempt); None if it has ended."""
    with platform.db.session() as session:
        row = session.get(j.Job, job_id)
        if row is None or row.status not in ("pending", "running"):
            return None
        now = utcnow()
        row.status, row.pid, row.message = "running", os.getpid(), "starting"
        row.started_at = row.started_at or now
        row.attempts += 1
        limits = JobLimits.model_validate(row.limits or {})
        left = float("inf")
        if limits.max_runtime is not None:
            left = limits.max_runtime - (now - row.started_at).total_seconds()
        return limits, left, row.created_by, row.attempts


def _fail(job: JobAttempt, message: str) -> None:
    """Mark the job failed (its resource record with it) and its run failed."""
    platform, run_id = job.platform, job.run_id
    record = {} if job.measure is None else {"resources": job.measure()}
    with platform.db.session() as session:
        session.execute(
            sa.update(j.Job)
            .where(j.Job.id == job.id, j.Job.status == "running")
            .values(status="failed", message=message, ended_at=utcnow(), **record)
            .execution_options(synchronize_session=False)
        )
        end_run(session, run_id, "failed")


def _next_attempt(platform: Platform, job_id: str) -> int:
    with platform.db.session() as session:
        row = session.get(j.Job, job_id)
        assert row is not None
        row.attempts += 1
        row.run_id = None
        return row.attempts


def run_job(platform: Platform, job_id: str, entry: str) -> int:
    """Run the job's attempts to an end and record it; the process's exit code."""
    started = _start(platform, job_id)
    if started is None:
        log(f"job {job_id} has ended already")
        return 0
    limits, left, principal, number = started
    on_executor = platform.settings.executor != "local"
    if on_executor:  # before any thread starts: a stopped job cancels its tasks first
        take_sigterm(cancel_outstanding)
    apply_limits(limits, address_space=not on_executor)
    if limits.max_runtime is not None:
        start_watchdog(platform, job_id, left, "job")
    attempt = JobAttempt(platform, job_id, number, principal)
    sampler = Sampler(platform, job_id, limits, lambda: attempt.run_id).start()
    attempt.measure = lambda: sampler.measure().model_dump(mode="json")
    worker = _worker(entry)
    code = 1
    remote = open_remote(platform.settings, limits, on_open=sampler.rebase)
    attempt.remote = sampler.remote = remote
    try:
        while True:
            try:
                worker(attempt)
                code = 0
                break
            except RETRYABLE as error:
                if attempt.attempt > limits.max_retries:
                    log(f"failed: {error}")
                    _fail(attempt, str(error))
                    break
                log(f"attempt {attempt.attempt} failed, retrying: {error}")
                _fail_run(platform, attempt.run_id)
                attempt = JobAttempt(platform, job_id, _next_attempt(platform, job_id), principal)
                attempt.measure = lambda: sampler.measure().model_dump(mode="json")
                attempt.remote = remote
            except JobStopped:
                log("stopped")
                break
            except MemoryError:
                message = memory_message(limits) if limits.memory_mb else "out of memory"
                log(f"failed: {message}")
                _fail(attempt, message)
                break
            except ShipyardError as error:
                log(f"failed: {error}")
                _fail(attempt, str(error))
                break
            except Exception as error:
                traceback.print_exc()
                _fail(attempt, f"{type(error).__name__}: {error}")
                break
    finally:
        if remote is not None:
            remote.close()
        record = sampler.stop()
        log(
            f"resources: {record.wall_seconds:.1f} s wall, {record.cpu_seconds:.1f} s CPU, "
            f"peak {record.peak_memory_mb:.0f} MiB"
            + (f" ({record.tasks} task(s) on {record.executor})" if record.tasks else "")
        )
    return code


def _fail_run(platform: Platform, run_id: str | None) -> None:
    with platform.db.session() as session:
        end_run(session, run_id, "failed")


def _resource(platform: Platform, job_id: str) -> str:
    """The job's resource name, ``sy:<kind>-job/<scope>/<id>``, for its log lines."""
    with platform.db.session() as session:
        row = session.get(j.Job, job_id)
        if row is None:
            return ""
        kind = KINDS.get(row.kind)
        name = kind.resource_kind if kind else f"{row.kind.replace('_', '-')}-job"
        return ResourceName.scoped(name, row.scope, job_id).name


def main(argv: list[str]) -> int:
    job_id, entry = argv[1], argv[2]
    settings = Settings.model_validate_json(sys.stdin.buffer.read())
    platform = Platform.open(settings, migrate=False)
    configure_logging(settings, "jobs", job_id=job_id, resource=_resource(platform, job_id))
    try:
        lock = hold_lock(settings.jobs_dir, job_id)
    except BlockingIOError:
        log(f"job {job_id} is already running in another process")
        platform.close()
        return 1
    try:
        return run_job(platform, job_id, entry)
    finally:
        platform.close()
        lock.close()  # the lock goes with the file; a dying process drops it as well
