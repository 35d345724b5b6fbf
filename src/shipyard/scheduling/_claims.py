"""Claiming windows in ``schedule_windows``: once per window, oldest first, with leases.

A scheduler claims a schedule's windows in one transaction: it takes over the windows
whose owner's lease ran out (oldest first), then inserts a row for every window that
has ended since the last claimed one. The unique (kind, target, window_start) makes a
second scheduler's insert of the same window fail, so that scheduler claims nothing for
that schedule this time round. A schedule with a window still running under a live
lease is left alone, so one schedule's windows run one after another, in order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.errors import Conflict
from shipyard.platform import Platform
from shipyard.scheduling._base import Due, Schedule
from shipyard.store.metadata import scheduling_tables as st

MAX_ATTEMPTS = 3
"""A window whose scheduler died this many times while running it is marked failed."""
MAX_CATCH_UP = 1000
"""At most this many missed windows of one schedule are claimed at once (the rest next)."""


@dataclass(frozen=True)
class Claimed:
    """A claimed window: its row and what to run."""

    row_id: int
    due: Due


def window_index(schedule: Schedule, at: datetime) -> int:
    """k of the window ``[anchor + k * every, anchor + (k + 1) * every)`` holding ``at``."""
    return math.floor((at - schedule.anchor) / schedule.every)


def window_start(schedule: Schedule, k: int) -> datetime:
    return schedule.anchor + k * schedule.every


def claim(
    platform: Platform, schedule: Schedule, owner: str, now: datetime, lease: timedelta
) -> list[Claimed] | None:
    """Claim this schedule's due windows (taken-over ones first), oldest first; None when
    another scheduler holds or just took them (try again next tick)."""
    if schedule.every <= timedelta(0):
        return []
    try:
        with platform.db.session() as session:
            return _claim(session, schedule, owner, now, lease)
    except Conflict:  # another scheduler inserted one of these windows first
        return None


def expired_targets(platform: Platform, kind: str, now: datetime) -> set[str]:
    """Targets of ``kind`` with a window whose owner's lease has run out (to take over)."""
    w = st.ScheduleWindow
    with platform.db.session() as session:
        found = session.scalars(
            sa.select(w.target)
            .where(w.kind == kind, w.status == "running", w.lease_until <= now)
            .distinct()
        )
        return set(found)


def _claim(
    session: Session, schedule: Schedule, owner: str, now: datetime, lease: timedelta
) -> list[Claimed] | None:
    w = st.ScheduleWindow
    mine = (w.kind == schedule.kind, w.target == schedule.target)
    running = list(
        session.scalars(sa.select(w).where(*mine, w.status == "running").order_by(w.window_start))
    )
    if any(row.lease_until > now for row in running):
        return None
    claimed: list[Claimed] = []
    for row in running:
        taken = session.execute(
            sa.update(w)
            .where(w.id == row.id, w.status == "running", w.lease_until <= now)
            .values(
                owner=owner,
                lease_until=now + lease,
                attempts=w.attempts + sa.case((w.started_at.is_(None), 0), else_=1),
            )
            .execution_options(synchronize_session=False)
        )
        if cast("sa.CursorResult[Any]", taken).rowcount != 1:
            session.rollback()
            return None
        session.refresh(row)
        if row.attempts > MAX_ATTEMPTS:
            row.status, row.ended_at = "failed", now
            deaths = row.attempts - 1
            row.error = f"given up: its scheduler stopped while running it {deaths} times"
            continue
        due = Due(schedule, row.window_start, row.window_end)
        claimed.append(Claimed(row.id, due))
    last = session.scalar(sa.select(sa.func.max(w.window_start)).where(*mine))
    first = 0 if last is None else window_index(schedule, last) + 1
    ended = window_index(schedule, now) - 1
    new = []
    for k in range(first, min(ended, first + MAX_CATCH_UP - 1) + 1):
        start = window_start(schedule, k)
        row = w(
            kind=schedule.kind,
            target=schedule.target,
            window_start=start,
            window_end=start + schedule.every,
            status="running",
            owner=owner,
            lease_until=now + lease,
            attempts=1,
            claimed_at=now,
        )
        session.add(row)
        new.append(row)
    session.flush()
    claimed.extend(Claimed(r.id, Due(schedule, r.window_start, r.window_end)) for r in new)
    return claimed


def renew(platform: Platform, owner: str, row_ids: list[int], until: datetime) -> None:
    """Extend the lease of the windows this scheduler is running."""
    if not row_ids:
        return
    w = st.ScheduleWindow
    with platform.db.session() as session:
        session.execute(
            sa.update(w)
            .where(w.id.in_(row_ids), w.owner == owner, w.status == "running")
            .values(lease_until=until)
            .execution_options(synchronize_session=False)
        )


def mark_started(platform: Platform, owner: str, row_id: int, now: datetime) -> bool:
    """Record the run's start; False when another scheduler has taken the window over."""
    w = st.ScheduleWindow
    with platform.db.session() as session:
        result = session.execute(
            sa.update(w)
            .where(w.id == row_id, w.owner == owner, w.status == "running")
            .values(started_at=now)
            .execution_options(synchronize_session=False)
        )
        return cast("sa.CursorResult[Any]", result).rowcount == 1


def mark_ended(
    platform: Platform, owner: str, row_id: int, now: datetime, error: str | None
) -> bool:
    """Record how the run ended; False when another scheduler had taken the window over."""
    w = st.ScheduleWindow
    with platform.db.session() as session:
        result = session.execute(
            sa.update(w)
            .where(w.id == row_id, w.owner == owner, w.status == "running")
            .values(status="failed" if error else "succeeded", ended_at=now, error=error)
            .execution_options(synchronize_session=False)
        )
        return cast("sa.CursorResult[Any]", result).rowcount == 1


def release(platform: Platform, owner: str, row_ids: list[int]) -> None:
    """Give back windows claimed but not started (on stop): their lease ends now, so the
    next scheduler takes them over at once (a window never started is no death)."""
    if not row_ids:
        return
    w = st.ScheduleWindow
    with platform.db.session() as session:
        session.execute(
            sa.update(w)
            .where(w.id.in_(row_ids), w.owner == owner, w.status == "running")
            .values(lease_until=w.claimed_at, started_at=None)
            .execution_options(synchronize_session=False)
        )
