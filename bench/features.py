"""Feature-store bench: point-in-time retrieval over 3 feature views, Shipyard against Feast.

    python bench/features.py            # 1M entity rows, 3 views of 10M rows, 1M entities
    python bench/features.py --quick    # 100k entity rows, 3 views of 1M rows, 100k entities

The same Parquet files (numpy-generated, fixed seed) go to every side: per view an
``driver_id`` key, an ``event_timestamp`` (UTC, spread over one year), three float
features, and a 30-day TTL; the entity table has ``driver_id``, ``event_timestamp`` and a
``row_id`` and is handed over in memory. Timed per run, from the files on disk to the
joined table in memory:

- Shipyard end to end, index ready (the steady state): ``client.features.get_historical_features``
  on dataset versions after ``features.apply`` built each source's prepared point-in-time
  index (the stored Parquet blobs and index blobs are read in place, their digests checked
  or, once verified in the same file state, trusted by their stamps; a key lookup and binary
  search per view, then the new profiled dataset version is written);
- the same with every stored file hashed: the verification stamps (a local store trusts a
  file it verified before while its inode, size, mtime and ctime are unchanged) dropped
  before each run, as on the first retrieval after an ingest;
- Shipyard end to end, cold first retrieval: the same with the indexes forgotten before
  each run (outside the timing), so each run builds and stores them first;
- the index build alone (``build_index`` on the three sources' files, DuckDB sorts);
- Shipyard's retrieval engine alone (``shipyard.features.point_in_time_join`` on the files)
  with the indexes in memory, and without them (the DuckDB ASOF JOIN engine, the fallback);
- the raw limit: DuckDB's ASOF JOIN of the three views alone (no TTL, no tie-breaking, no
  row order, no dataset version), from the same files;
- Feast's local offline store (``offline_store: file``; ``get_historical_features(...).to_df()``)
  in its own virtualenv (bench/.venv-feast), in a subprocess that times itself;
- a pandas ``merge_asof`` baseline in this process.

Every side's answer (the stored training dataset too) is checked against the engine's,
value for value, by ``row_id``. Prints a markdown table of medians; ``--skip-feast`` leaves
Feast out (no ratio).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

VENV = Path(__file__).with_name(".venv-feast")
FEAST_PACKAGES = ["feast>=0.40"]
VIEWS = 3
FEATURES = ("f0", "f1", "f2")
TTL = timedelta(days=30)
YEAR_US = 365 * 86_400 * 1_000_000
START_US = 1_704_067_200_000_000  # 2024-01-01T00:00:00Z
TARGET = 10.0
SERVICE = "Shipyard end to end, index ready (dataset versions in and out)"
HASHED = "Shipyard end to end, index ready, every stored file hashed (no verification stamps)"
COLD = "Shipyard end to end, cold first retrieval (index build + retrieval)"
BUILD = "Shipyard index build alone (3 sources)"
ENGINE = "Shipyard engine with index (point_in_time_join on the files)"
ASOF = "Shipyard engine without index (DuckDB ASOF JOIN, the fallback)"

SIZES = {
    "full": {"entity_rows": 1_000_000, "view_rows": 10_000_000, "entities": 1_000_000},
    "quick": {"entity_rows": 100_000, "view_rows": 1_000_000, "entities": 100_000},
}


def generate(directory: Path, entity_rows: int, view_rows: int, entities: int) -> None:
    """Write the views' Parquet files and the entity table (same seed, same data every time)."""
    rng = np.random.default_rng(20240101)
    stamp = pa.timestamp("us", tz="UTC")
    directory.mkdir(parents=True, exist_ok=True)
    for view in range(VIEWS):
        table = pa.table(
            {
                "driver_id": rng.integers(0, entities, view_rows, dtype=np.int64),
                "event_timestamp": pa.array(
                    START_US + rng.integers(0, YEAR_US, view_rows), pa.int64()
                ).cast(stamp),
                **{f: rng.random(view_rows) for f in FEATURES},
            }
        )
        pq.write_table(table, directory / f"v{view}.parquet", row_group_size=1 << 20)
    pq.write_table(
        pa.table(
            {
                "driver_id": rng.integers(0, entities, entity_rows, dtype=np.int64),
                "event_timestamp": pa.array(
                    START_US + rng.integers(0, YEAR_US, entity_rows), pa.int64()
                ).cast(stamp),
                "row_id": np.arange(entity_rows, dtype=np.int64),
            }
        ),
        directory / "entities.parquet",
    )


def output_columns() -> list[str]:
    return [f"v{v}__{f}" for v in range(VIEWS) for f in FEATURES]


# --- Shipyard ---------------------------------------------------------------------------


def build_indexes(data: Path) -> list[Any]:
    """Each view's prepared point-in-time index, built from its file."""
    from shipyard.features._pit_index import build_index

    stamp = pa.timestamp("us", tz="UTC")
    return [
        build_index(
            [(data / f"v{v}.parquet", pq.ParquetFile(data / f"v{v}.parquet").metadata.num_rows)],
            ["driver_id"],
            "event_timestamp",
            stamp,
        )
        for v in range(VIEWS)
    ]


def shipyard_engine(data: Path, entities: pa.Table, indexes: list[Any] | None = None) -> pa.Table:
    from shipyard.features import ViewSource, point_in_time_join

    views = [
        ViewSource(
            name=f"v{v}",
            entities=["driver_id"],
            event_time="event_timestamp",
            features=list(FEATURES),
            output_names=[f"v{v}__{f}" for f in FEATURES],
            ttl_seconds=int(TTL.total_seconds()),
            table=data / f"v{v}.parquet",
            index=indexes[v] if indexes else None,
        )
        for v in range(VIEWS)
    ]
    result: pa.Table = point_in_time_join(entities, views)
    return result


class ShipyardService:
    """A Shipyard home with the views' files ingested as datasets and the views applied."""

    def __init__(self, data: Path, home: Path) -> None:
        from shipyard.client import Client
        from shipyard.config import Settings

        settings = Settings(home=home)
        self.client = Client(settings=settings)
        self.client_settings_blobs_url = settings.blobs_url
        self.blob_encryption = settings.blob_encryption
        for v in range(VIEWS):
            self.client.datasets.ingest(data / f"v{v}.parquet", f"source-v{v}")
        self.client.datasets.ingest(data / "entities.parquet", "entities")
        started = time.perf_counter()
        self.client.features.apply(
            [
                {
                    "name": f"v{v}",
                    "source": f"source-v{v}",
                    "entities": ["driver_id"],
                    "event_time": "event_timestamp",
                    "features": list(FEATURES),
                    "ttl": int(TTL.total_seconds()),
                }
                for v in range(VIEWS)
            ]
        )
        self.apply_seconds = time.perf_counter() - started
        self.runs = 0

    def forget_indexes(self) -> None:
        """Drop the recorded indexes, so the next retrieval builds them (cold)."""
        import sqlalchemy as sa

        from shipyard.store.metadata import feature_tables as ft

        platform = self.client.transport.platform
        with platform.db.session() as session:
            session.execute(sa.delete(ft.FeatureSourceIndex))

    def hashed_retrieve(self) -> str:
        """A retrieval that hashes every file it reads in place (stamps dropped first)."""
        import shutil

        shutil.rmtree(Path(self.client.transport.platform.blobs.root) / "verified", True)
        return self.retrieve()

    def cold_retrieve(self) -> str:
        self.forget_indexes()
        return self.retrieve()

    def retrieve(self) -> str:
        """One retrieval into a new dataset; returns the stored version's digest."""
        self.runs += 1
        info = self.client.features.get_historical_features(
            "entities", [f"v{v}" for v in range(VIEWS)], f"training-{self.runs}"
        )
        return info.digest

    def stored(self, digest: str) -> pd.DataFrame:
        """The stored training dataset, read back from the blob store (digest verified)."""
        from shipyard.data import read_parquet_bytes
        from shipyard.store.blobs import open_blob_store

        blobs = open_blob_store(self.client_settings_blobs_url, encryption=self.blob_encryption)
        frame: pd.DataFrame = read_parquet_bytes(blobs.get_bytes(digest)).to_pandas()
        return frame

    def close(self) -> None:
        self.client.close()


def duckdb_raw(data: Path, entities: pa.Table) -> pa.Table:
    """The raw limit: three chained ASOF JOINs and nothing else, from the same files."""
    import duckdb

    connection = duckdb.connect()
    connection.register("e", entities)
    joins = " ".join(
        f"ASOF LEFT JOIN read_parquet('{data / f'v{v}.parquet'}') v{v} "
        f"ON e.driver_id = v{v}.driver_id AND e.event_timestamp >= v{v}.event_timestamp"
        for v in range(VIEWS)
    )
    columns = ", ".join(f"v{v}.{f}" for v in range(VIEWS) for f in FEATURES)
    result: pa.Table = connection.sql(f"SELECT e.row_id, {columns} FROM e {joins}").to_arrow_table()
    connection.close()
    return result


# --- pandas -------------------------------------------------------------------------------


def pandas_merge_asof(data: Path, entities: pd.DataFrame) -> pd.DataFrame:
    left = entities.sort_values("event_timestamp", kind="stable")
    for v in range(VIEWS):
        right = pd.read_parquet(data / f"v{v}.parquet").sort_values("event_timestamp")
        right = right.rename(columns={f: f"v{v}__{f}" for f in FEATURES})
        left = pd.merge_asof(
            left,
            right,
            on="event_timestamp",
            by="driver_id",
            tolerance=pd.Timedelta(TTL),
            direction="backward",
        )
    return left.sort_values("row_id").reset_index(drop=True)


# --- Feast (runs inside bench/.venv-feast) ------------------------------------------------


def ensure_feast() -> Path:
    """Create Feast's virtualenv once; later runs reuse it."""
    python = VENV / "bin" / "python"
    marker = VENV / ".bench-ready"
    if not marker.exists():
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", *FEAST_PACKAGES]
        subprocess.run(pip, check=True)
        marker.write_text("ok\n")
    return python


def feast_worker(data: Path, repo: Path, runs: int, answer: Path) -> None:
    """Apply the views to a local Feast repo and time get_historical_features(...).to_df()."""
    import feast
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource
    from feast.types import Float64
    from feast.value_type import ValueType

    repo.mkdir(parents=True, exist_ok=True)
    (repo / "feature_store.yaml").write_text(
        "project: bench\n"
        f"registry: {repo / 'registry.db'}\n"
        "provider: local\n"
        f"online_store:\n  type: sqlite\n  path: {repo / 'online.db'}\n"
        "offline_store:\n  type: file\n"
        "entity_key_serialization_version: 3\n"
    )
    driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
    views = [
        FeatureView(
            name=f"v{v}",
            entities=[driver],
            ttl=TTL,
            schema=[Field(name=f, dtype=Float64) for f in FEATURES],
            source=FileSource(path=str(data / f"v{v}.parquet"), timestamp_field="event_timestamp"),
        )
        for v in range(VIEWS)
    ]
    store = FeatureStore(repo_path=str(repo))
    store.apply([driver, *views])
    entity_df = pd.read_parquet(data / "entities.parquet")
    refs = [f"v{v}:{f}" for v in range(VIEWS) for f in FEATURES]
    times, cpu = [], []
    for run in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        frame = store.get_historical_features(
            entity_df=entity_df.copy(), features=refs, full_feature_names=True
        ).to_df()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        if run == 0:
            frame[["row_id", *output_columns()]].to_parquet(answer)
    print(json.dumps({"times": times, "cpu": cpu, "version": feast.__version__}))


def run_feast(data: Path, work: Path, runs: int) -> dict[str, Any]:
    python = ensure_feast()
    answer = work / "feast-answer.parquet"
    done = subprocess.run(
        [
            str(python),
            __file__,
            "--feast-worker",
            str(data),
            str(work / "feast-repo"),
            str(runs),
            str(answer),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"Feast worker failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["answer"] = pd.read_parquet(answer)
    return result


# --- checks and report ----------------------------------------------------------------------


def same_answer(expected: pd.DataFrame, got: pd.DataFrame, name: str) -> int:
    """Every feature value of every row ``got`` returned equals Shipyard's, matched by row_id
    (nulls and NaN count as the same); returns how many entity rows ``got`` left out."""
    columns = output_columns()
    right = got[["row_id", *columns]].sort_values("row_id").reset_index(drop=True)
    if right["row_id"].duplicated().any():
        raise AssertionError(f"{name}: returned an entity row twice")
    left = expected[["row_id", *columns]].set_index("row_id").loc[right["row_id"]]
    for column in columns:
        a = left[column].to_numpy(dtype=float, na_value=np.nan)
        b = right[column].to_numpy(dtype=float, na_value=np.nan)
        if not np.array_equal(a, b, equal_nan=True):
            differ = int((~((a == b) | (np.isnan(a) & np.isnan(b)))).sum())
            raise AssertionError(f"{name}: {differ} values of {column} differ from Shipyard")
    return len(expected) - len(right)


Timing = tuple[list[float], list[float]]


def timed(function: Any, runs: int) -> tuple[Timing, Any]:
    """Wall and process CPU seconds (all threads) of each run, and the last result."""
    times: list[float] = []
    cpu: list[float] = []
    result = None
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = function()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return (times, cpu), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k entity rows, 1M-row views")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per side (median)")
    parser.add_argument("--feast-runs", type=int, default=None, help="runs for Feast")
    parser.add_argument("--skip-feast", action="store_true")
    parser.add_argument("--skip-service", action="store_true", help="skip the end-to-end case")
    parser.add_argument("--feast-worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.feast_worker:
        data, repo, runs, answer = args.feast_worker
        feast_worker(Path(data), Path(repo), int(runs), Path(answer))
        return

    mode = "quick" if args.quick else "full"
    sizes = SIZES[mode]
    with tempfile.TemporaryDirectory(prefix="bench-features-") as tmp:
        work = Path(tmp)
        data = work / "data"
        started = time.perf_counter()
        generate(data, **sizes)
        print(f"generated data in {time.perf_counter() - started:.1f} s: {sizes}", flush=True)
        entity_table = pq.read_table(data / "entities.parquet")
        entity_frame = entity_table.to_pandas()

        rows: list[tuple[str, Timing]] = []
        notes = ["pandas merge_asof returned every entity row; all values equal Shipyard's."]
        asof_times, asof_result = timed(lambda: shipyard_engine(data, entity_table), args.runs)
        expected = asof_result.to_pandas()
        print(f"shipyard engine, ASOF: {asof_times}", flush=True)
        build_times, indexes = timed(lambda: build_indexes(data), args.runs)
        print(f"index build: {build_times}", flush=True)
        engine_times, engine_result = timed(
            lambda: shipyard_engine(data, entity_table, indexes), args.runs
        )
        indexes.clear()  # free them before the service runs
        if not engine_result.equals(asof_result):
            raise AssertionError("the engine with indexes differs from the ASOF engine")
        notes.append("The engine's answers with and without indexes are equal tables.")
        print(f"shipyard engine, indexed: {engine_times}", flush=True)

        if not args.skip_service:
            service = ShipyardService(data, work / "home")
            notes.append(
                f"features.apply of the 3 views (building their indexes) took "
                f"{service.apply_seconds:.1f} s."
            )
            hashed_times, digest = timed(service.hashed_retrieve, args.runs)
            if same_answer(expected, service.stored(digest), "Shipyard end to end, hashed"):
                raise AssertionError("the stored training dataset left out entity rows")
            print(f"shipyard service, files hashed: {hashed_times}", flush=True)
            service_times, digest = timed(service.retrieve, args.runs)
            if same_answer(expected, service.stored(digest), "Shipyard end to end"):
                raise AssertionError("the stored training dataset left out entity rows")
            print(f"shipyard service: {service_times}", flush=True)
            cold_times, digest = timed(service.cold_retrieve, args.runs)
            if same_answer(expected, service.stored(digest), "Shipyard end to end, cold"):
                raise AssertionError("the stored training dataset left out entity rows")
            print(f"shipyard service, cold: {cold_times}", flush=True)
            service.close()
            rows.append((SERVICE, service_times))
            rows.append((HASHED, hashed_times))
            rows.append((COLD, cold_times))
            notes.append("The stored training datasets equal the engine's answer.")
        rows.append((BUILD, build_times))
        rows.append((ENGINE, engine_times))
        rows.append((ASOF, asof_times))
        raw_times, _ = timed(lambda: duckdb_raw(data, entity_table), args.runs)
        rows.append(("raw limit: DuckDB ASOF JOIN x3 alone (no TTL, ties, order)", raw_times))
        print(f"duckdb raw: {raw_times}", flush=True)

        pandas_times, pandas_result = timed(
            lambda: pandas_merge_asof(data, entity_frame), args.runs
        )
        if same_answer(expected, pandas_result, "pandas merge_asof"):
            raise AssertionError("pandas merge_asof left out entity rows")
        rows.append(("pandas merge_asof (in-process)", pandas_times))
        print(f"pandas: {pandas_times}", flush=True)

        feast_version = None
        if not args.skip_feast:
            feast = run_feast(data, work, args.feast_runs or args.runs)
            dropped = same_answer(expected, feast["answer"], "Feast")
            feast_version = feast["version"]
            complete = int(expected[output_columns()].notna().all(axis=1).sum())
            notes.append(
                f"Feast returned {len(feast['answer']):,} of {len(expected):,} entity rows "
                f"({dropped:,} left out; {complete:,} rows have a value within the TTL in every "
                "view); on the rows it returned, all values equal Shipyard's."
                if dropped
                else "Feast returned every entity row; all values equal Shipyard's."
            )
            rows.append(
                (
                    f"Feast {feast_version} local offline store (file)",
                    (feast["times"], feast["cpu"]),
                )
            )
            print(f"feast: {feast['times']}", flush=True)

    report(mode, sizes, rows, feast_version, notes)


def report(
    mode: str,
    sizes: dict[str, int],
    rows: list[tuple[str, Timing]],
    feast: str | None,
    notes: list[str],
) -> None:
    import duckdb

    medians = {name: statistics.median(times) for name, (times, _) in rows}
    feast_median = next((m for name, m in medians.items() if name.startswith("Feast")), None)
    print()
    print(
        f"Point-in-time retrieval, {mode}: {sizes['entity_rows']:,} entity rows x {VIEWS} views "
        f"of {sizes['view_rows']:,} rows ({sizes['entities']:,} entities, 3 features each, "
        f"TTL {TTL.days} d); {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}, pandas {pd.__version__}"
    )
    print()
    print("| side | median wall s | median CPU s | runs | wall speed-up vs Feast |")
    print("|---|---:|---:|---:|---:|")
    for name, (times, cpu) in rows:
        median = medians[name]
        speedup = f"{feast_median / median:.1f}x" if feast_median else "n/a"
        print(
            f"| {name} | {median:.2f} | {statistics.median(cpu):.2f} | {len(times)} | {speedup} |"
        )
    if feast_median:
        print()
        for name in (SERVICE, HASHED, COLD, ENGINE):
            if name in medians:
                ratio = feast_median / medians[name]
                verdict = "met" if ratio >= TARGET else "NOT met"
                print(f"Target >= {TARGET:.0f}x Feast, {name}: {verdict} ({ratio:.1f}x).")
    print()
    for note in notes:
        print(f"- {note}")
    results = Path(__file__).with_name("results")
    results.mkdir(exist_ok=True)
    (results / f"features-{mode}.json").write_text(
        json.dumps({"sizes": sizes, "feast": feast, "times": dict(rows), "notes": notes}, indent=2)
    )


if __name__ == "__main__":
    main()
