"""The scheduler on real SQLite and PostgreSQL, with a fake kind registered for the test."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from tests.scheduling.schedulekit import HOUR, NOW, Clock, FakeSource

from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.scheduling import MAX_ATTEMPTS, Due, Scheduler
from shipyard.scheduling._claims import claim, mark_started
from shipyard.store.metadata import scheduling_tables as st


def _rows(platform: Platform) -> list[st.ScheduleWindow]:
    with platform.db.session() as session:
        return list(
            session.scalars(
                sa.select(st.ScheduleWindow).order_by(
                    st.ScheduleWindow.target, st.ScheduleWindow.window_start
                )
            )
        )


def _scheduler(platform: Platform, source: FakeSource, clock: Clock, **options: float) -> Scheduler:
    return Scheduler(platform, {"fake": source}, clock=clock, **options)  # type: ignore[arg-type]


def test_every_ended_window_runs_once_oldest_first(platform: Platform) -> None:
    source, clock = FakeSource(ended=5), Clock()
    scheduler = _scheduler(platform, source, clock)
    assert scheduler.tick() == 5
    scheduler.wait_idle()
    anchor = source.items[0].anchor
    assert source.runs == [("t0", anchor + k * HOUR) for k in range(5)]
    assert scheduler.tick() == 0  # the window now open has not ended
    rows = _rows(platform)
    assert [r.status for r in rows] == ["succeeded"] * 5
    assert all(r.started_at is not None and r.ended_at is not None for r in rows)


def test_restart_catches_up_without_skipping_or_repeating(platform: Platform) -> None:
    source, clock = FakeSource(ended=3), Clock()
    first = _scheduler(platform, source, clock)
    first.tick()
    first.wait_idle()
    first.stop()
    clock.now += 4 * HOUR  # down for four hours
    second = _scheduler(platform, source, clock)
    assert second.tick() == 4
    second.wait_idle()
    anchor = source.items[0].anchor
    assert source.runs == [("t0", anchor + k * HOUR) for k in range(7)]


def test_a_failing_window_is_recorded_and_not_run_again(platform: Platform) -> None:
    source, clock = FakeSource(ended=3), Clock()
    anchor = source.items[0].anchor

    def fail_second(due: Due) -> None:
        if due.start == anchor + HOUR:
            raise RuntimeError("metric store unreachable")

    source.before_run = fail_second
    scheduler = _scheduler(platform, source, clock)
    scheduler.tick()
    scheduler.wait_idle()
    rows = _rows(platform)
    assert [r.status for r in rows] == ["succeeded", "failed", "succeeded"]
    assert rows[1].error == "RuntimeError: metric store unreachable"
    clock.now += HOUR
    assert scheduler.tick() == 1  # only the next window; the failed one stays failed
    scheduler.wait_idle()
    assert [t for _, t in source.runs] == [anchor, anchor + 2 * HOUR, anchor + 3 * HOUR]


def test_a_window_whose_scheduler_died_is_taken_over_after_its_lease(platform: Platform) -> None:
    source, clock = FakeSource(ended=2), Clock()
    lease = timedelta(seconds=60)
    dead = claim(platform, source.items[0], "dead-scheduler", clock.now, lease)
    assert dead is not None and len(dead) == 2
    assert mark_started(platform, "dead-scheduler", dead[0].row_id, clock.now)  # died in it
    survivor = _scheduler(platform, source, clock, lease_seconds=60)
    assert survivor.tick() == 0  # the lease still holds
    clock.now += lease
    assert survivor.tick() == 2
    survivor.wait_idle()
    rows = _rows(platform)
    assert [(r.status, r.attempts, r.owner) for r in rows] == [
        ("succeeded", 2, survivor.owner),  # its scheduler died running it
        ("succeeded", 1, survivor.owner),  # claimed, never started: no death
    ]
    assert len(source.runs) == 2


def test_a_window_that_keeps_killing_its_scheduler_is_given_up(platform: Platform) -> None:
    source, clock = FakeSource(ended=1), Clock()
    lease = timedelta(seconds=60)
    for attempt in range(MAX_ATTEMPTS):
        claimed = claim(platform, source.items[0], f"dead-{attempt}", clock.now, lease)
        assert claimed is not None and len(claimed) == 1
        assert mark_started(platform, f"dead-{attempt}", claimed[0].row_id, clock.now)
        clock.now += lease
    scheduler = _scheduler(platform, source, clock)
    assert scheduler.tick() == 0
    (row,) = _rows(platform)
    assert row.status == "failed"
    assert row.error is not None and "stopped while running it 3 times" in row.error
    assert source.runs == []


def test_stop_finishes_the_window_running_and_gives_back_the_rest(platform: Platform) -> None:
    source, clock = FakeSource(ended=4), Clock()
    started, release = threading.Event(), threading.Event()

    def block_first(due: Due) -> None:
        if not started.is_set():
            started.set()
            assert release.wait(30)

    source.before_run = block_first
    scheduler = _scheduler(platform, source, clock).start()
    assert started.wait(30)
    stopper = threading.Thread(target=scheduler.stop)
    stopper.start()
    release.set()
    stopper.join(30)
    assert len(source.runs) == 1
    rows = _rows(platform)
    assert [r.status for r in rows] == ["succeeded", "running", "running", "running"]
    assert all(r.started_at is None for r in rows[1:])  # given back, never started
    source.before_run = None
    again = _scheduler(platform, source, clock)
    assert again.tick() == 3  # taken over at once: their lease ended when they were given back
    again.wait_idle()
    assert len(source.runs) == 4
    assert [r.attempts for r in _rows(platform)] == [1, 1, 1, 1]


def test_a_kind_whose_module_does_not_exist_yet_is_skipped(platform: Platform) -> None:
    scheduler = Scheduler(platform, {"later": "shipyard.not_built_yet._scheduled:SOURCE"})
    assert scheduler.tick() == 0


def test_two_schedulers_on_postgresql_run_each_window_exactly_once(
    tmp_path: object, postgres_url: str
) -> None:
    platforms = [
        Platform.open(Settings(home=tmp_path / f"home{i}", database_url=postgres_url))  # type: ignore[operator]
        for i in range(2)
    ]
    try:
        source, clock = FakeSource(targets=25, ended=4), Clock()
        schedulers = [_scheduler(p, source, clock) for p in platforms]
        barrier = threading.Barrier(2)

        def race(scheduler: Scheduler) -> None:
            barrier.wait()
            for _ in range(3):
                scheduler.tick()
            scheduler.wait_idle()

        threads = [threading.Thread(target=race, args=(s,)) for s in schedulers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        counts = Counter(source.runs)
        assert len(counts) == 100
        assert set(counts.values()) == {1}
        owners = {r.owner for r in _rows(platforms[0])}
        assert owners <= {s.owner for s in schedulers}
        assert all(r.status == "succeeded" for r in _rows(platforms[0]))
    finally:
        for opened in platforms:
            opened.close()


@pytest.mark.parametrize("ended", [0])
def test_a_schedule_anchored_in_the_future_waits(platform: Platform, ended: int) -> None:
    source, clock = FakeSource(ended=ended), Clock()
    clock.now = NOW - 2 * HOUR
    assert _scheduler(platform, source, clock).tick() == 0


def test_a_running_window_keeps_its_lease_while_its_scheduler_lives(platform: Platform) -> None:
    source, clock = FakeSource(ended=1), Clock()
    started, release = threading.Event(), threading.Event()

    def block(due: Due) -> None:
        started.set()
        assert release.wait(30)

    source.before_run = block
    owner = _scheduler(platform, source, clock, lease_seconds=60)
    assert owner.tick() == 1
    assert started.wait(30)
    other_clock = Clock()
    other = _scheduler(platform, FakeSource(ended=1), other_clock, lease_seconds=60)
    for _ in range(3):  # three lease lengths pass; the owner renews at each of its ticks
        clock.now += timedelta(seconds=40)
        other_clock.now = clock.now
        owner.tick()
        other_clock.now = clock.now + timedelta(seconds=59)
        assert other.tick() == 0
    release.set()
    owner.wait_idle()
    (row,) = _rows(platform)
    assert (row.status, row.attempts, row.owner) == ("succeeded", 1, owner.owner)
