"""Streaming bench: records/s and end-to-end lag through Redis Streams into committed partitions.

    python bench/streaming.py            # 300,000 records a run, medians of 3 runs, crash test
    python bench/streaming.py --quick    # 50,000 records, 1 run, smaller crash test

A producer process on 127.0.0.1 pushes JSON records into a Redis stream with
pipelined XADD while ``shipyard streams consume`` (its own process) validates
them and commits a Parquet partition every 10,000 records or 1 s. Compared in the
same run with the raw limits of the broker on this machine: XADD alone, and
XREADGROUP + XACK alone (no validation, no commit). Throughput is records over the
time from the first XADD to the last commit; lag is each record's commit time
minus the time stamped into it by the producer, measured twice: with the producer
flat out (lag includes the backlog) and paced at half the measured throughput.

Then the commit cost as commits pile up (see _commit_cost.py): the median time of one
commit around commit #1, #10, #100 and #1000 of a stream, next to the partition-list copy
the previous design added to every commit at the same commit numbers.

    python bench/streaming.py --commit-cost-only     # just that table (1,000 commits)

Then the crash test: the consumer is killed with SIGKILL in the middle of the
stream while the producer is still sending, restarted, left to drain, and every
produced record id is looked up in the latest version of the committed dataset.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import redis

import _commit_cost as commit_cost
from shipyard.config import Settings
from shipyard.data import read_parquet_bytes
from shipyard.datasets import find_version, load_version_table
from shipyard.platform import Platform
from shipyard.security import RequestContext, bootstrap, context_for
from shipyard.streams import StreamSpec, create_stream, list_commits

REDIS_URL = os.environ.get("SHIPYARD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "SHIPYARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PRODUCER = Path(__file__).with_name("_stream_producer.py")
SCHEMA = {"id": "integer", "user": "string", "amount": "float", "ok": "boolean", "ts": "timestamp"}


def producer(key: str, count: int, rate: float | None = None) -> subprocess.Popen[bytes]:
    """A producer process (see _stream_producer.py); it prints when it started and how long."""
    args = [sys.executable, str(PRODUCER), REDIS_URL, key, "0", str(count)]
    return subprocess.Popen([*args, *([str(rate)] if rate else [])], stdout=subprocess.PIPE)


def finished(process: subprocess.Popen[bytes]) -> dict[str, float]:
    out, _ = process.communicate(timeout=600)
    assert process.returncode == 0, "the producer failed"
    timing: dict[str, float] = orjson.loads(out)
    return timing


@dataclass
class Home:
    """A Shipyard installation for one case: temporary home, given metadata database."""

    settings: Settings
    platform: Platform
    admin: RequestContext

    @classmethod
    def open(cls, root: Path, database_url: str | None) -> Home:
        settings = Settings(home=root / uuid.uuid4().hex[:8], database_url=database_url)
        platform = Platform.open(settings)
        bootstrap(platform)
        return cls(settings, platform, context_for(platform, "admin"))

    def stream(self, name: str, key: str, **overrides: Any) -> None:
        spec = {
            "name": name,
            "schema": SCHEMA,
            "id_field": "id",
            "key_field": "user",
            "commit_every_records": 10_000,
            "commit_every_seconds": 1.0,
            "source": {"kind": "redis", "url": REDIS_URL, "key": key},
        }
        create_stream(self.admin, StreamSpec.model_validate(spec | overrides))

    def consumer(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env["SHIPYARD_HOME"] = str(self.settings.home)
        if self.settings.database_url:
            env["SHIPYARD_DATABASE_URL"] = self.settings.database_url
        return subprocess.Popen(
            [sys.executable, "-m", "shipyard", "streams", "consume", name, "--json", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def committed(self, name: str) -> list[tuple[float, pa.Table]]:
        """(commit time, partition) for every commit, in order."""
        found: list[tuple[float, pa.Table]] = []
        after = 0
        while batch := list_commits(self.admin, name, after_seq=after, limit=10_000):
            for commit in batch:
                if commit.digest is not None:
                    table = read_parquet_bytes(self.platform.blobs.get_bytes(commit.digest))
                    found.append((commit.created_at.timestamp(), table))
            after = batch[-1].seq
        return found


def wait_until_listening(client: redis.Redis, key: str, process: subprocess.Popen[bytes]) -> None:
    """Until the consumer process has joined its group on ``key``."""
    while True:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        try:
            if client.xinfo_consumers(key, "shipyard"):
                return
        except redis.ResponseError:
            pass
        time.sleep(0.05)


def raw_limits(count: int) -> tuple[float, float]:
    """Records/s of XADD alone (a producer process) and of XREADGROUP + XACK alone."""
    client = redis.Redis.from_url(REDIS_URL)
    key = f"bench:raw:{uuid.uuid4().hex[:8]}"
    produce_rate = count / finished(producer(key, count))["seconds"]
    client.xgroup_create(key, "raw", id="0")
    began, seen = time.perf_counter(), 0
    while seen < count:
        reply: Any = client.xreadgroup("raw", "c", {key: ">"}, count=5_000, block=1_000)
        entries = reply[0][1]
        client.xack(key, "raw", *[e[0] for e in entries])
        seen += len(entries)
    consume_rate = count / (time.perf_counter() - began)
    client.delete(key)
    client.close()
    return produce_rate, consume_rate


@dataclass
class Run:
    rate: float
    lag_p50: float
    lag_p99: float
    commits: int


def shipyard_run(home: Home, count: int, pace: float | None) -> Run:
    """One consumer process, one producer process; throughput and lag from the commits."""
    client = redis.Redis.from_url(REDIS_URL)
    name, key = f"s{uuid.uuid4().hex[:8]}", f"bench:{uuid.uuid4().hex[:8]}"
    home.stream(name, key)
    consumer = home.consumer(name, "--max-records", str(count))
    wait_until_listening(client, key, consumer)
    began = finished(producer(key, count, pace))["first"]
    _, err = consumer.communicate(timeout=600)
    assert consumer.returncode == 0, err.decode()
    commits = home.committed(name)
    rows = sum(t.num_rows for _, t in commits)
    assert rows == count, f"{rows} of {count} records committed"
    lags = pa.concat_arrays(
        [
            pc.subtract(
                pa.scalar(at),
                pc.divide(pc.cast(pc.cast(t.column("ts"), pa.int64()), pa.float64()), 1e6),
            ).combine_chunks()
            for at, t in commits
        ]
    ).to_numpy(zero_copy_only=False)
    lags = sorted(lags.tolist())
    client.delete(key)
    client.close()
    return Run(
        rate=count / (commits[-1][0] - began),
        lag_p50=float(lags[len(lags) // 2]),
        lag_p99=float(lags[int(len(lags) * 0.99)]),
        commits=len(commits),
    )


def crash_test(home: Home, count: int) -> dict[str, int]:
    """kill -9 the consumer mid-stream, restart it, and look every record id up."""
    client = redis.Redis.from_url(REDIS_URL)
    name, key = f"crash{uuid.uuid4().hex[:6]}", f"bench:crash:{uuid.uuid4().hex[:8]}"
    home.stream(name, key, commit_every_records=5_000, commit_every_seconds=0.5)
    first = home.consumer(name)
    wait_until_listening(client, key, first)
    sending = producer(key, count, rate=count / 8)
    while len(list_commits(home.admin, name)) < 3:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_with_producer_running = sending.poll() is None
    finished(sending)
    second = home.consumer(name, "--idle-exit", "3")
    out, err = second.communicate(timeout=600)
    assert second.returncode == 0, err.decode()
    with home.platform.db.session() as session:
        version = find_version(session, name, None)
    ids = load_version_table(home.platform, version).column("id").to_numpy()
    unique = len(set(ids.tolist()))
    client.delete(key)
    client.close()
    return {
        "produced": count,
        "committed rows": len(ids),
        "distinct ids": unique,
        "lost": count - unique,
        "duplicated": len(ids) - unique,
        "redelivered and dropped": orjson.loads(out)["duplicates"],
        "producer still sending at the kill": int(killed_with_producer_running),
    }


def postgres_reachable() -> bool:
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--records", type=int)
    parser.add_argument("--runs", type=int)
    parser.add_argument("--commits", type=int, help="commits in the commit-cost table")
    parser.add_argument("--commit-cost-only", action="store_true")
    args = parser.parse_args()
    count = args.records or (50_000 if args.quick else 300_000)
    runs = args.runs or (1 if args.quick else 3)
    commits = args.commits or (200 if args.quick else 1_000)
    databases: list[tuple[str, str | None]] = [("SQLite", None)]
    if postgres_reachable():
        databases.append(("PostgreSQL", POSTGRES_URL))
    if args.commit_cost_only:
        with tempfile.TemporaryDirectory(prefix="shipyard-stream-bench-") as tmp:
            commit_cost.print_table(Path(tmp), databases, commits, 100)
        return
    redis.Redis.from_url(REDIS_URL).ping()

    print(f"streaming bench: {count:,} records a run, medians of {runs}, Redis at {REDIS_URL}\n")
    raw = [raw_limits(count) for _ in range(runs)]
    rows = [
        ("Redis XADD alone (pipelined, 1 producer process)", statistics.median(r[0] for r in raw)),
        (
            "Redis XREADGROUP + XACK alone (no validation, no commit)",
            statistics.median(r[1] for r in raw),
        ),
    ]
    print("| path | records/s | lag p50 | lag p99 | commits |")
    print("|---|---:|---:|---:|---:|")
    for label, rate in rows:
        print(f"| {label} | {rate:,.0f} | | | |")
    with tempfile.TemporaryDirectory(prefix="shipyard-stream-bench-") as tmp:
        for db_label, url in databases:
            home = Home.open(Path(tmp), url)
            flat = [shipyard_run(home, count, None) for _ in range(runs)]
            rate = statistics.median(r.rate for r in flat)
            paced = [shipyard_run(home, count, rate / 2) for _ in range(runs)]
            for label, group in (("flat out", flat), (f"paced at {rate / 2:,.0f}/s", paced)):
                print(
                    f"| Shipyard consumer, {db_label} metadata, producer {label} "
                    f"| {statistics.median(r.rate for r in group):,.0f} "
                    f"| {statistics.median(r.lag_p50 for r in group):.2f} s "
                    f"| {statistics.median(r.lag_p99 for r in group):.2f} s "
                    f"| {statistics.median(r.commits for r in group):.0f} |"
                )
            home.platform.close()
        commit_cost.print_table(Path(tmp), databases, commits, 100)
        home = Home.open(Path(tmp), None)
        outcome = crash_test(home, count)
        home.platform.close()
    print("\ncrash test (SQLite metadata): kill -9 of the consumer mid-stream, restart, drain\n")
    print("| produced | committed rows | distinct ids | lost | duplicated | redelivered, dropped |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {outcome['produced']:,} | {outcome['committed rows']:,} | "
        f"{outcome['distinct ids']:,} | {outcome['lost']} | {outcome['duplicated']} | "
        f"{outcome['redelivered and dropped']:,} |"
    )
    if not outcome["producer still sending at the kill"]:
        print("\n(note: the producer had finished before the kill landed)")
    if outcome["lost"] or outcome["duplicated"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
