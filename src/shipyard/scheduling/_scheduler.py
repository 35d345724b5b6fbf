"""The scheduler loop: claim each kind's due windows and run them, one pool per kind.

Every ``poll_seconds`` it asks each kind's source for its schedules, claims the windows
that have ended (``_claims``; several schedules at once, on ``claim_workers`` threads;
a schedule is looked at again only once another of its windows has ended, or a window
of it was orphaned) and hands each schedule's claimed windows, oldest first, to
that kind's thread pool, so a slow kind never holds up another. While a window runs its
lease (``lease_seconds``, default 60 s) is renewed every third of it; a window whose
scheduler died is taken over by another once its lease has run out, so within about
``lease_seconds + poll_seconds`` of the death. A run that raises is recorded as failed
with its error and not run again; the schedule carries on with its next window.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import cast

from shipyard.clock import utcnow
from shipyard.platform import Platform
from shipyard.scheduling._base import SOURCES, ScheduleSource
from shipyard.scheduling._claims import (
    Claimed,
    claim,
    expired_targets,
    mark_ended,
    mark_started,
    release,
    renew,
    window_index,
    window_start,
)

log = logging.getLogger("shipyard.scheduler")

LEASE_SECONDS = 60.0
POLL_SECONDS = 1.0


def load_source(kind: str, path: str) -> ScheduleSource | None:
    """Import ``module:attribute``; None (logged at debug) while that kind's module is absent."""
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            log.debug("no %s schedules: %s is not installed yet", kind, module_name)
            return None
        raise
    return cast(ScheduleSource, getattr(module, attribute))


class Scheduler:
    """Runs every kind's scheduled windows until ``stop``; safe beside other schedulers."""

    def __init__(
        self,
        platform: Platform,
        sources: Mapping[str, str | ScheduleSource] | None = None,
        *,
        poll_seconds: float = POLL_SECONDS,
        lease_seconds: float = LEASE_SECONDS,
        workers_per_kind: int = 4,
        claim_workers: int = 4,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.platform = platform
        self.sources = dict(SOURCES if sources is None else sources)
        self.poll_seconds = poll_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.workers_per_kind = workers_per_kind
        self.clock = clock
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._busy: dict[tuple[str, str], Future[None]] = {}
        self._running: dict[int, tuple[str, str]] = {}
        self._lock = threading.Lock()
        self._loaded: dict[str, ScheduleSource | None] = {}
        self._claimer = ThreadPoolExecutor(claim_workers, thread_name_prefix="sched-claim")
        self._next_check: dict[tuple[str, str], tuple[tuple[timedelta, datetime], datetime]] = {}
        self._last_renewal = clock()

    def _source(self, kind: str) -> ScheduleSource | None:
        if kind not in self._loaded:
            entry = self.sources[kind]
            self._loaded[kind] = load_source(kind, entry) if isinstance(entry, str) else entry
        return self._loaded[kind]

    def tick(self) -> int:
        """Claim and submit every due window once; the number of windows submitted."""
        submitted = 0
        for kind in self.sources:
            if self._stopping.is_set():
                break
            try:
                submitted += self._tick_kind(kind)
            except Exception:
                log.exception("scheduling %s windows failed; trying again next tick", kind)
        self._renew_if_due()
        return submitted

    def _tick_kind(self, kind: str) -> int:
        source = self._source(kind)
        if source is None:
            return 0
        with self.platform.db.session() as session:
            schedules = source.schedules(session)
        now = self.clock()
        orphaned = expired_targets(self.platform, kind, now)
        due = []
        for schedule in schedules:
            key = (schedule.kind, schedule.target)
            with self._lock:
                busy = key in self._busy
            if busy or self._stopping.is_set():
                continue
            known = self._next_check.get(key)
            if (
                known is not None
                and known[0] == (schedule.every, schedule.anchor)
                and now < known[1]
                and key[1] not in orphaned
            ):
                continue  # no window of it has ended since the last look
            due.append(schedule)
        owner, lease = self.owner, self.lease
        results = self._claimer.map(
            lambda s: claim(self.platform, s, owner, self.clock(), lease), due
        )
        submitted = 0
        for schedule, claimed in zip(due, results, strict=True):
            key = (schedule.kind, schedule.target)
            if claimed is None:
                continue  # another scheduler holds it: look again next tick
            current = window_start(schedule, window_index(schedule, now) + 1)
            self._next_check[key] = ((schedule.every, schedule.anchor), current)
            if claimed:
                self._submit(kind, source, key, claimed)
                submitted += len(claimed)
        return submitted

    def _submit(
        self, kind: str, source: ScheduleSource, key: tuple[str, str], claimed: list[Claimed]
    ) -> None:
        pool = self._pools.get(kind)
        if pool is None:
            pool = ThreadPoolExecutor(self.workers_per_kind, thread_name_prefix=f"sched-{kind}")
            self._pools[kind] = pool
        with self._lock:
            for item in claimed:
                self._running[item.row_id] = key
            self._busy[key] = pool.submit(self._run_windows, source, claimed)

    def _run_windows(self, source: ScheduleSource, claimed: list[Claimed]) -> None:
        """Run one schedule's claimed windows in order; give back the rest when stopping."""
        key = (claimed[0].due.schedule.kind, claimed[0].due.schedule.target)
        try:
            for index, item in enumerate(claimed):
                if self._stopping.is_set():
                    release(self.platform, self.owner, [c.row_id for c in claimed[index:]])
                    return
                self._run_one(source, item)
                with self._lock:
                    self._running.pop(item.row_id, None)
        except Exception:
            log.exception("scheduled %s %s: recording a window failed", *key)
        finally:
            with self._lock:
                for item in claimed:
                    self._running.pop(item.row_id, None)
                self._busy.pop(key, None)

    def _run_one(self, source: ScheduleSource, item: Claimed) -> None:
        due = item.due
        what = f"{due.schedule.kind} {due.schedule.target} window {due.start.isoformat()}"
        if not mark_started(self.platform, self.owner, item.row_id, self.clock()):
            log.warning("%s was taken over by another scheduler; not running it", what)
            return
        error = None
        try:
            source.run(self.platform, due)
        except Exception as problem:
            error = f"{type(problem).__name__}: {problem}"
            log.warning("%s failed: %s\n%s", what, error, traceback.format_exc(limit=5))
        if not mark_ended(self.platform, self.owner, item.row_id, self.clock(), error):
            log.warning("%s ran, but another scheduler had taken it over meanwhile", what)

    def _renew_if_due(self) -> None:
        current = self.clock()
        if current - self._last_renewal < self.lease / 3:
            return
        self._last_renewal = current
        with self._lock:
            ids = list(self._running)
        try:
            renew(self.platform, self.owner, ids, current + self.lease)
        except Exception:
            log.exception("renewing the leases of running windows failed")

    def run(self) -> None:
        """Tick until ``stop``; then wait for the windows being run (the rest are given back)."""
        log.info("scheduler %s started (kinds: %s)", self.owner, ", ".join(self.sources))
        try:
            while not self._stopping.is_set():
                self.tick()
                self._wait_or_renew()
        finally:
            for pool in self._pools.values():
                pool.shutdown(wait=True)
            self._claimer.shutdown(wait=True)
            log.info("scheduler %s stopped", self.owner)

    def _wait_or_renew(self) -> None:
        """Sleep a poll interval, renewing leases meanwhile if runs outlast it."""
        deadline = utcnow() + timedelta(seconds=self.poll_seconds)
        while not self._stopping.is_set():
            left = (deadline - utcnow()).total_seconds()
            if left <= 0:
                return
            self._stopping.wait(min(left, self.lease.total_seconds() / 3))
            self._renew_if_due()

    def start(self) -> Scheduler:
        """Run in a background thread (as ``shipyard server`` does)."""
        self._thread = threading.Thread(target=self.run, name="shipyard-scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop claiming, finish the windows being run, give back the ones not started."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
        else:
            for pool in self._pools.values():
                pool.shutdown(wait=True)
            self._claimer.shutdown(wait=True)

    def wait_idle(self) -> None:
        """Block until every submitted window has run (for tests and one-shot runs)."""
        while True:
            with self._lock:
                futures = list(self._busy.values())
            if not futures:
                return
            for future in futures:
                future.exception()
