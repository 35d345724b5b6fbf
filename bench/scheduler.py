"""Scheduler bench: 1,000 schedules due at once; lag from window end to run start.

    python bench/scheduler.py            # 1,000 schedules
    python bench/scheduler.py --quick    # 200 schedules

Every schedule's window ends at the same instant; the scheduler (one, then two sharing
the database) claims each window (a row per window under the unique constraint) and
runs it on its kind's pool. The lag of a window is from its end to its run's start. The
raw limit is the same runs handed straight to a thread pool of the same size, with no
database at all. Runs on SQLite and, when reachable, PostgreSQL
(``SHIPYARD_TEST_POSTGRES_URL``, default the local server's ``test`` database).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from shipyard.clock import utcnow
from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.scheduling import Due, Schedule, Scheduler

POSTGRES = os.environ.get(
    "SHIPYARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
WORKERS = 4


class Source:
    kind = "bench"

    def __init__(self, count: int, end: datetime) -> None:
        anchor = end - timedelta(hours=1)
        self.items = [Schedule("bench", f"s{i}", timedelta(hours=1), anchor) for i in range(count)]
        self.lags: list[float] = []
        self.runs: Counter[str] = Counter()
        self.lock = threading.Lock()

    def schedules(self, session: object) -> list[Schedule]:
        return self.items

    def run(self, platform: Platform, due: Due) -> None:
        lag = (utcnow() - due.end).total_seconds()
        with self.lock:
            self.lags.append(lag)
            self.runs[due.schedule.target] += 1


def _side(urls: list[str], home: Path, count: int) -> tuple[list[float], int, float]:
    platforms = [Platform.open(Settings(home=home, database_url=url)) for url in urls]
    end = utcnow()
    source = Source(count, end)
    schedulers = [
        Scheduler(p, {"bench": source}, poll_seconds=0.05, workers_per_kind=WORKERS)  # type: ignore[dict-item]
        for p in platforms
    ]
    started = time.perf_counter()
    for scheduler in schedulers:
        scheduler.start()
    while len(source.lags) < count and time.perf_counter() - started < 600:
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    for scheduler in schedulers:
        scheduler.stop()
    for platform in platforms:
        platform.close()
    twice = sum(1 for n in source.runs.values() if n > 1)
    return source.lags, twice, elapsed


def _raw(count: int) -> tuple[list[float], int, float]:
    end = utcnow()
    source = Source(count, end)
    started = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        for item in source.items:
            pool.submit(source.run, None, Due(item, end - item.every, end))  # type: ignore[arg-type]
    return source.lags, 0, time.perf_counter() - started


def _postgres_schema() -> tuple[str, sa.Engine] | None:
    engine = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:
        print(f"PostgreSQL not reachable ({type(error).__name__}); its rows are skipped")
        engine.dispose()
        return None
    separator = "&" if "?" in POSTGRES else "?"
    return f"{POSTGRES}{separator}options=-csearch_path%3D{schema}", engine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    count = 200 if parser.parse_args().quick else 1000
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows.append(("raw limit (thread pool, no DB)", 1, *_raw(count)))
        sqlite = f"sqlite:///{root / 'one' / 'shipyard.db'}"
        Platform.open(Settings(home=root / "one", database_url=sqlite)).close()
        rows.append(("SQLite", 1, *_side([sqlite], root / "one", count)))
        sqlite2 = f"sqlite:///{root / 'two' / 'shipyard.db'}"
        Platform.open(Settings(home=root / "two", database_url=sqlite2)).close()
        rows.append(("SQLite", 2, *_side([sqlite2, sqlite2], root / "two", count)))
        for schedulers in (1, 2):
            found = _postgres_schema()
            if found is None:
                break
            url, engine = found
            Platform.open(Settings(home=root / "pg", database_url=url)).close()
            rows.append(("PostgreSQL", schedulers, *_side([url] * schedulers, root / "pg", count)))
            engine.dispose()
    print(f"\n{count} schedules due at once; lag = window end -> run start (s)\n")
    print("| backend | schedulers | p50 | p99 | max | all run in (s) | run twice |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, schedulers, lags, twice, elapsed in rows:
        ordered = sorted(lags)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        print(
            f"| {name} | {schedulers} | {statistics.median(ordered):.3f} | {p99:.3f} | "
            f"{ordered[-1]:.3f} | {elapsed:.2f} | {twice} |"
        )


if __name__ == "__main__":
    main()
