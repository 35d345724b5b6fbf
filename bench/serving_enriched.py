"""Enriched endpoints: what the online-feature lookup costs a served single-row request.

    python bench/serving_enriched.py            # 10,000 entities, 8 s per load run, 3 runs
    python bench/serving_enriched.py --quick    # 2,000 entities, 3 s per load run, 1 run

One real Shipyard home: a feature view of 8 float features over N drivers, materialized
to the SQLite online store and to Redis (127.0.0.1:6379, skipped when absent); a LightGBM
model (50 trees) on ``amount`` + the 8 features; two endpoints served by
``shipyard serve`` (one worker process each):

- ``plain``: the request sends all 9 inputs (the baseline: no lookup);
- ``enriched``: the request sends ``driver_id`` and ``amount``; the worker reads the
  8 features from the online store (one batched read per request) and predicts.

Load: wrk (or the httpx fallback) at 8 connections, single-row ``dataframe_records``,
entity ids cycling over the table. The raw limit is the online store's own single-key
read, in process. Every answer of the enriched endpoint is first checked against the
plain endpoint's for the same rows. Prints a markdown table of medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import lightgbm as lgb
import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))

from _load import LoadResult, find_wrk, run_httpx, run_wrk
from _servers import RunningServer, free_port, launch
from shipyard.client import Client
from shipyard.clock import utcnow
from shipyard.config import Settings
from shipyard.features.online import OnlineStore, online_store_url, open_online_store
from shipyard.flavors import ColumnSpec, ModelSignature, save_model
from shipyard.platform import Platform
from shipyard.registry import MODEL_ARTIFACT, MODEL_META, register_model
from shipyard.security import bootstrap, context_for, issue_admin_key_if_none
from shipyard.tracking import start_run, store_artifact

FEATURES = [f"f{i}" for i in range(8)]
INPUTS = ["amount", *FEATURES]
CONNECTIONS = 8
REDIS = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class Row:
    case: str
    store: str
    rps: float
    p50: float
    p99: float
    failures: int


def drivers(count: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"driver_id": np.arange(1, count + 1, dtype=np.int64)})
    frame["ts"] = datetime(2024, 1, 1)
    for name in FEATURES:
        frame[name] = rng.normal(size=count)
    return frame


def train() -> lgb.Booster:
    rng = np.random.default_rng(4)
    matrix = rng.normal(size=(2000, len(INPUTS)))
    target = matrix @ rng.normal(size=len(INPUTS)) + rng.normal(scale=0.1, size=2000)
    params = {"objective": "regression", "verbose": -1, "num_threads": 1, "num_leaves": 15}
    return lgb.train(params, lgb.Dataset(matrix, target), num_boost_round=50)


def register(platform: Platform, booster: lgb.Booster) -> None:
    signature = ModelSignature(
        inputs=[ColumnSpec(name=n, type="float") for n in INPUTS], task="regression", target="y"
    )
    flavor, data = save_model(booster)
    with platform.db.session() as session:
        run = start_run(session, experiment="bench", principal="admin")
        artifact = store_artifact(platform, session, run.id, MODEL_ARTIFACT, data)
        meta = {"flavor": flavor, "digest": artifact.digest, "signature": signature.model_dump()}
        store_artifact(platform, session, run.id, MODEL_META, orjson.dumps(meta))
        run.status, run.end_time = "finished", utcnow()
        run_id = run.id
    register_model(context_for(platform, "admin"), "fare", run_id)


def prepare(home: Path, online_url: str | None, entities: int) -> tuple[str, pd.DataFrame]:
    """A home with the view materialized, both endpoints, and an admin key."""
    settings = Settings(home=home, online_store_url=online_url)
    platform = Platform.open(settings)
    bootstrap(platform)
    table = drivers(entities)
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    arrow = arrow.set_column(1, "ts", arrow["ts"].cast(pa.timestamp("us")))
    pq.write_table(arrow, home / "drivers.parquet")
    with Client(settings=settings) as client:
        client.datasets.ingest(home / "drivers.parquet", "drivers")
        client.features.apply(
            [
                {
                    "name": "driver_stats",
                    "source": "drivers",
                    "entities": ["driver_id"],
                    "event_time": "ts",
                    "features": FEATURES,
                }
            ]
        )
        client.features.materialize("driver_stats")
        register(platform, train())
        client.endpoints.create("plain", "fare@1")
        client.endpoints.create("enriched", "fare@1")
        client.features.bind_endpoint("enriched", [{"view": "driver_stats", "features": FEATURES}])
    key = issue_admin_key_if_none(platform)
    platform.close()
    assert key is not None
    return key.token, table


def serve(home: Path, endpoint: str, key: str, online_url: str | None) -> RunningServer:
    port = free_port()
    env = {**os.environ, "SHIPYARD_HOME": str(home)}
    if online_url:
        env["SHIPYARD_ONLINE_STORE_URL"] = online_url
    command = [sys.executable, "-m", "shipyard", "serve", endpoint, "--port", str(port)]
    command += ["--workers", "1"]
    return launch(endpoint, command, port, key, home / f"{endpoint}.log", env=env)


def bodies(table: pd.DataFrame, row: int) -> tuple[bytes, bytes]:
    rng = np.random.default_rng(row)
    amount = float(rng.normal())
    record = table.iloc[row]
    plain = {"amount": amount, **{n: float(record[n]) for n in FEATURES}}
    keyed = {"driver_id": int(record["driver_id"]), "amount": amount}
    return (
        orjson.dumps({"dataframe_records": [plain]}),
        orjson.dumps({"dataframe_records": [keyed]}),
    )


def check(plain: RunningServer, enriched: RunningServer, table: pd.DataFrame) -> None:
    """The enriched answers equal the plain endpoint's on the same rows."""
    headers = {"Authorization": f"Bearer {plain.api_key}", "Content-Type": "application/json"}
    for row in range(0, len(table), max(1, len(table) // 50)):
        full, keyed = bodies(table, row)
        a = httpx.post(f"{plain.url}/invocations", content=full, headers=headers).json()
        b = httpx.post(f"{enriched.url}/invocations", content=keyed, headers=headers).json()
        if a != b:
            raise AssertionError(f"row {row}: plain {a} != enriched {b}")


def load(server: RunningServer, body: bytes, seconds: float, runs: int, work: Path) -> LoadResult:
    body_file = work / f"{server.name}-body.json"
    body_file.write_bytes(body)
    wrk = find_wrk()
    url = f"{server.url}/invocations"
    results = []
    for _ in range(runs):
        if wrk:
            results.append(run_wrk(wrk, url, body_file, server.api_key, CONNECTIONS, seconds))
        else:
            results.append(run_httpx(url, body_file, server.api_key, CONNECTIONS, seconds))
    return LoadResult(
        statistics.median(r.requests_per_second for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        sum(r.requests for r in results),
        sum(r.failures for r in results),
    )


def raw_read_us(store: OnlineStore, entities: int, reads: int = 3000) -> float:
    """Median microseconds of one single-key online read, in process."""
    times = []
    for i in range(reads):
        key = str(i % entities + 1)
        started = time.perf_counter()
        store.read([("driver_stats", [key])])
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def redis_available() -> bool:
    try:
        import redis

        connection = redis.Redis.from_url(REDIS)
        connection.ping()
        connection.close()
        return True
    except Exception:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    entities, seconds, runs = (2_000, 3.0, 1) if args.quick else (10_000, 8.0, 3)
    stores: list[tuple[str, str | None]] = [("sqlite", None)]
    prefix = f"shipyard-bench:{uuid.uuid4().hex[:8]}:"
    if redis_available():
        stores.append(("redis", f"{REDIS}?prefix={prefix}"))
    else:
        print("Redis at 127.0.0.1:6379 is not reachable: the Redis rows are left out")
    rows: list[Row] = []
    raw: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-enriched-") as directory:
        work = Path(directory)
        for store_name, url in stores:
            home = work / store_name
            home.mkdir()
            key, table = prepare(home, url, entities)
            store = open_online_store(url or online_store_url(Settings(home=home)))
            raw[store_name] = raw_read_us(store, entities)
            servers = {name: serve(home, name, key, url) for name in ("plain", "enriched")}
            try:
                check(servers["plain"], servers["enriched"], table)
                full, keyed = bodies(table, entities // 2)
                for case, body in (("plain (9 inputs sent)", full), ("enriched (keys)", keyed)):
                    server = servers["plain" if case.startswith("plain") else "enriched"]
                    result = load(server, body, seconds, runs, work)
                    rows.append(
                        Row(
                            case,
                            store_name,
                            result.requests_per_second,
                            result.p50_ms,
                            result.p99_ms,
                            result.failures,
                        )
                    )
            finally:
                for server in servers.values():
                    server.stop()
                if store_name == "redis":
                    store.delete_view("driver_stats")
                store.close()
    print(f"\n{entities} entities, 8 features, {CONNECTIONS} connections, {runs} run(s)\n")
    print("| case | online store | req/s | p50 ms | p99 ms | failures | req/s vs plain |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        base = next(r for r in rows if r.store == row.store and r.case.startswith("plain"))
        print(
            f"| {row.case} | {row.store} | {row.rps:,.0f} | {row.p50:.2f} | {row.p99:.2f} "
            f"| {row.failures} | {row.rps / base.rps:.2f} |"
        )
    print("\nraw single-key online read, in process (median): ", end="")
    print(", ".join(f"{name} {us:.0f} µs" for name, us in raw.items()))


if __name__ == "__main__":
    main()
