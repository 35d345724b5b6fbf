"""Inside the job process: its limits, its watchdog, and the sampler of what it uses.

The limits hold without any server: CPU affinity and an address-space limit are set on
the process (its children inherit them), the watchdog ends the whole process group at
``max_runtime``, and the sampler fails the job when its tree's memory passes the limit.
The sampler also keeps the job's resource record current and logs ``system/cpu_percent``
and ``system/memory_mb`` to the job's run.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa

from shipyard.clock import utcnow
from shipyard.errors import ShipyardError
from shipyard.jobs._attempt import log
from shipyard.jobs._control import TERM_GRACE_SECONDS, end_run
from shipyard.jobs._remote import RemoteWork, cancel_outstanding
from shipyard.jobs._usage import address_space_mib, group_members, own_peak_mib, tree_usage
from shipyard.platform import Platform
from shipyard.schemas.jobs import ACTIVE_STATUSES, JobLimits, ResourceRecord
from shipyard.store.metadata import job_tables as j
from shipyard.tracking import MetricPoint, write_batch

SAMPLE_SECONDS = 2.0
# Thread stacks and allocator arenas reserve address space they rarely touch.
_ADDRESS_SLACK_MIB = 256


def memory_message(limits: JobLimits) -> str:
    return f"job exceeded its memory limit of {limits.memory_mb} MiB"


def apply_limits(limits: JobLimits, *, address_space: bool = True) -> None:
    """Pin the process to ``cpus`` cores and cap its address space at ``memory_mb`` more than
    it starts with (the sampler holds its tree's resident memory to the same growth).

    A job whose work runs on Ray leaves out the address-space cap (``address_space``): its
    tasks carry ``memory_mb`` themselves, and the Ray client reserves address space it
    never touches."""
    if limits.cpus is not None and hasattr(os, "sched_setaffinity"):
        allowed = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, allowed[: limits.cpus])
    if limits.memory_mb is not None and address_space:
        cap = int((address_space_mib() + limits.memory_mb + _ADDRESS_SLACK_MIB) * 2**20)
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def end_own_group(platform: Platform, job_id: str, status: str, message: str) -> None:
    """Mark the job ``status`` (if it still runs), end its run, then end this process group:
    SIGTERM to the others, SIGKILL to all (this process too) after a grace. Its tasks on
    an executor are cancelled first."""
    cancel_outstanding()
    with platform.db.session() as session:
        claimed = session.execute(
            sa.update(j.Job)
            .where(j.Job.id == job_id, j.Job.status.in_(ACTIVE_STATUSES))
            .values(status=status, message=message, ended_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        row = session.get(j.Job, job_id)
        if claimed.rowcount == 1 and row is not None:  # type: ignore[attr-defined]
            end_run(session, row.run_id, "killed" if status != "failed" else "failed")
    log(message)
    group = os.getpgid(0)
    others = [pid for pid in group_members(group) if pid != os.getpid()]
    for pid in others:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + TERM_GRACE_SECONDS
    while time.monotonic() < deadline and any(p != os.getpid() for p in group_members(group)):
        time.sleep(0.02)
    os.killpg(group, signal.SIGKILL)


def start_watchdog(platform: Platform, job_id: str, seconds: float, noun: str) -> None:
    """End the job as timed out after ``seconds`` (its max_runtime left)."""

    def watch() -> None:
        time.sleep(max(seconds, 0.0))
        message = f"{noun} ran longer than its max_runtime"
        end_own_group(platform, job_id, "timed_out", message)

    threading.Thread(target=watch, name="max-runtime", daemon=True).start()


class Sampler:
    """Every few seconds: the tree's CPU and memory into the job's resource record and run."""

    def __init__(
        self, platform: Platform, job_id: str, limits: JobLimits, run_id: Callable[[], str | None]
    ) -> None:
        self.platform, self.job_id, self.limits, self.run_id = platform, job_id, limits, run_id
        self.started = time.monotonic()
        self.peak = 0.0
        self.cpu = 0.0
        self.step = 0
        self.samples = 0
        self.remote: RemoteWork | None = None
        self._stop = threading.Event()
        self._rebase = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sampler", daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def rebase(self) -> None:
        """Take the memory baseline again (what the process holds now is not the job's work)."""
        self._rebase.set()

    def stop(self) -> ResourceRecord:
        self._stop.set()
        self._thread.join(timeout=5)
        return self.record(final=True)

    def measure(self, *, final: bool = True) -> ResourceRecord:
        """What the job's tree has used so far, and its finished tasks on an executor."""
        cpu, memory = tree_usage()
        self.cpu = max(self.cpu, cpu)
        self.peak = max(self.peak, memory, own_peak_mib() if final else 0.0)
        remote = self.remote
        return ResourceRecord(
            wall_seconds=round(time.monotonic() - self.started, 3),
            cpu_seconds=round(self.cpu + (remote.cpu_seconds if remote else 0.0), 3),
            peak_memory_mb=round(max(self.peak, remote.peak_memory_mb if remote else 0.0), 1),
            executor=remote.name if remote else "local",
            tasks=remote.tasks if remote else 0,
        )

    def record(self, *, final: bool = False) -> ResourceRecord:
        """Measure, and store the record with the job."""
        record = self.measure(final=final)
        with self.platform.db.session() as session:
            row = session.get(j.Job, self.job_id)
            if row is not None:
                row.resources = record.model_dump(mode="json")
        return record

    def _loop(self) -> None:
        last_cpu, baseline = tree_usage()
        last_time = time.monotonic()
        while not self._stop.wait(SAMPLE_SECONDS if self.samples else 0.5):
            self.samples += 1
            cpu, memory = tree_usage()
            if self._rebase.is_set():
                self._rebase.clear()
                baseline = memory
            now = time.monotonic()
            percent = 100.0 * max(cpu - last_cpu, 0.0) / max(now - last_time, 1e-6)
            last_cpu, last_time = cpu, now
            try:
                self.record()
                self._log_metrics(percent, memory)
            except ShipyardError:
                pass  # a metric that cannot be written is no reason to stop the job
            # What the job took beyond what it started with (a forked job shares the host's pages)
            if self.limits.memory_mb is not None and memory - baseline > self.limits.memory_mb:
                end_own_group(self.platform, self.job_id, "failed", memory_message(self.limits))

    def _log_metrics(self, percent: float, memory: float) -> None:
        run_id = self.run_id()
        if run_id is None:
            return
        stamp = time.time()
        points = [
            MetricPoint(key="system/cpu_percent", value=percent, step=self.step, timestamp=stamp),
            MetricPoint(key="system/memory_mb", value=memory, step=self.step, timestamp=stamp),
        ]
        with self.platform.db.session() as session:
            write_batch(session, run_id, points, {}, {})
        self.step += 1
