"""Console bench: each console page's load time in headless Chromium over a big store, and
the API calls behind it, beside MLflow's UI on the same runs and metrics.

    python bench/console.py                         # 100,000 runs, 10,000,000 metric points
    python bench/console.py --runs 10000 --points 1000000 --rounds 5
    python bench/console.py --home /tmp/big         # generate once into DIR, reuse it after
    python bench/console.py --no-mlflow             # only Shipyard
    python bench/console.py --database postgresql://127.0.0.1:5432/bench_console --home DIR

The store: ``shipyard quickstart`` (its dataset, two runs, model, endpoint), then
``--runs`` runs in 10 experiments with 3 params each and ``--points`` metric points
inserted in bulk straight into the metadata tables (SQLite; with ``--database``,
PostgreSQL by COPY): 10 "long" runs hold a
tenth of the points in one 'loss' history each; every other run has 'loss' and
'accuracy' histories of equal length. Generation time is printed.

A page's time is ``page.goto`` (a full load: HTML, ES modules, the API calls it makes,
drawing) until ``main[data-ready="1"]``, which each page sets once its data is on screen.
Pages are loaded in turn, round after round (alternating, so load drifts hit all alike),
and the table gives p50 and p90 over the rounds after a first, uncounted one whose time is
shown apart ("first": a fresh server, cold caches; charts of ended runs are cached after).
The API table times the calls each page makes, with a bearer key over a kept-alive
connection.

MLflow: its own virtualenv (bench/.venv-mlflow, as the other benches), ``mlflow server``
on its own SQLite file into which the same experiments, runs, params and metrics are
inserted in bulk; its experiment page (the run table) and run page are timed the same way,
waiting until the run table or the run's name and metric are on screen.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY = 'main[data-ready="1"]'
EXPERIMENTS = 10
LONG_RUNS = 10
KEYS = ("loss", "accuracy")
T0 = 1_780_000_000.0  # epoch seconds of the first generated run


@dataclass(frozen=True)
class Store:
    home: Path
    admin_key: str
    long_run: str
    runs: list[str]
    generated_seconds: float
    database: str | None = None


@dataclass(frozen=True)
class Page:
    """One console page: its hash route and the API calls it makes (method, path, body)."""

    name: str
    route: str
    calls: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)


def pages(store: Store) -> list[Page]:
    """The pages timed: a table, so a new page is one line."""
    r = store.long_run
    some = ",".join(store.runs[:3])
    search: dict[str, Any] = {"order_by": ["attributes.start_time DESC"], "max_results": 50}
    return [
        Page("datasets", "#/datasets", [("GET", "/datasets", None)]),
        Page("dataset", "#/datasets/breast-cancer", [("GET", "/datasets/breast-cancer", None)]),
        Page("experiments", "#/experiments", [("GET", "/experiments", None)]),
        Page(
            "runs: all 100k, newest",
            "#/runs",
            [("POST", "/runs/search", search | {"experiments": None})],
        ),
        Page(
            "runs: one experiment, by metric",
            "#/runs?experiment=bench-3&order=metrics.loss%20ASC",
            [
                (
                    "POST",
                    "/runs/search",
                    search | {"experiments": ["bench-3"], "order_by": ["metrics.loss ASC"]},
                )
            ],
        ),
        Page(
            "runs: filtered",
            "#/runs?filter=metrics.accuracy%20%3E%200.99",
            [("POST", "/runs/search", search | {"filter": "metrics.accuracy > 0.99"})],
        ),
        Page(
            "run: 100k-point history",
            f"#/runs/{r}",
            [("GET", f"/runs/{r}", None), ("GET", f"/runs/{r}/metrics/loss/chart", None)],
        ),
        Page("compare 3 runs", f"#/compare?runs={some}", [("GET", f"/runs/{store.runs[0]}", None)]),
        Page("models", "#/models", [("GET", "/models", None)]),
        Page("model", "#/models/breast-cancer", [("GET", "/models/breast-cancer", None)]),
        Page(
            "lineage",
            "#/models/breast-cancer/versions/1",
            [("GET", "/lineage?kind=model&ref=breast-cancer@1", None)],
        ),
        Page("endpoints", "#/endpoints", [("GET", "/endpoints", None)]),
        Page(
            "endpoint",
            "#/endpoints/breast-cancer",
            [
                ("GET", "/endpoints/breast-cancer", None),
                ("GET", "/endpoints/breast-cancer/traffic", None),
            ],
        ),
        Page("audit", "#/audit", [("GET", "/audit", None)]),
        Page("principals", "#/principals", [("GET", "/principals", None)]),
        Page("cost", "#/cost", [("GET", "/cost", None)]),
    ]


def environment(home: Path, database: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["SHIPYARD_HOME"] = str(home)
    if database:
        env["SHIPYARD_DATABASE_URL"] = str(_sqlalchemy_url(database))
    env["SHIPYARD_SCHEDULER_IN_SERVER"] = "false"
    return env


def _history(rng: random.Random, steps: int, start: float, falling: bool) -> Iterator[float]:
    value = start
    for _ in range(steps):
        value = value * (0.999 if falling else 1.0005) + rng.uniform(-0.01, 0.01)
        yield value


@dataclass
class Rows:
    """The generated rows, as iterators of plain tuples (times as datetimes), one per table."""

    ids: list[str]
    rng: random.Random
    points: int
    latest: list[tuple[str, str, float, int, float]] = field(default_factory=list)

    def runs(self, experiment_ids: list[int]) -> Iterator[tuple[Any, ...]]:
        for i, run_id in enumerate(self.ids):
            start = datetime.fromtimestamp(T0 + i * 30, UTC)
            end = start + timedelta(seconds=20)
            name = f"run-{i}"
            experiment = experiment_ids[i % EXPERIMENTS]
            yield (run_id, experiment, name, "finished", "admin", start, end)

    def params(self) -> Iterator[tuple[str, str, str]]:
        for i, run_id in enumerate(self.ids):
            yield run_id, "learning_rate", str(round(0.01 * (1 + i % 10), 2))
            yield run_id, "num_leaves", str(7 + i % 25)
            yield run_id, "seed", str(i)

    def metrics(self) -> Iterator[tuple[str, str, float, int, float]]:
        """Every metric point; fills ``latest`` (each history's last point) on the way."""
        long_points = self.points // 10 // LONG_RUNS
        short_steps = max(1, (self.points - long_points * LONG_RUNS) // len(self.ids) // len(KEYS))
        for i, run_id in enumerate(self.ids):
            stamp = T0 + i * 30
            if i < LONG_RUNS:
                histories = [("loss", long_points, True)]
            else:
                histories = [(key, short_steps, key == "loss") for key in KEYS]
            for key, steps, falling in histories:
                first = self.rng.uniform(0.5, 1.0) if falling else self.rng.uniform(0.5, 0.9)
                value = first
                for step, value in enumerate(_history(self.rng, steps, first, falling)):
                    yield (run_id, key, value, step, stamp + step * 0.01)
                self.latest.append((run_id, key, value, steps - 1, stamp + (steps - 1) * 0.01))


def generate(home: Path, runs: int, points: int, database: str | None = None) -> Store:
    """The quickstart, then ``runs`` runs and ``points`` metric points in bulk, into the
    home's SQLite file or, with ``database``, into PostgreSQL by COPY."""
    started = time.monotonic()
    if database:
        _recreate_database(database)
    done = subprocess.run(
        [sys.executable, "-m", "shipyard", "quickstart"],
        env=environment(home, database),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"quickstart failed: {done.stderr}")
    from shipyard.config import Settings
    from shipyard.platform import Platform
    from shipyard.security import ADMIN, context_for, create_api_key

    platform = Platform.open(Settings(home=home, database_url=_sqlalchemy_url(database)))
    token = create_api_key(context_for(platform, ADMIN), ADMIN).token
    assert token is not None
    platform.close()
    rng = random.Random(7)
    rows = Rows([uuid.UUID(int=rng.getrandbits(128)).hex for _ in range(runs)], rng, points)
    if database:
        _load_postgres(database, rows)
    else:
        _load_sqlite(home / "shipyard.db", rows)
    ids = rows.ids
    (home / "bench-store.txt").write_text(f"{token}\n{ids[0]}\n" + "\n".join(ids[:10]) + "\n")
    return Store(home, token, ids[0], ids[:10], time.monotonic() - started, database)


def _sqlite_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _load_sqlite(path: Path, rows: Rows) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    created = "2026-06-01 00:00:00.000000"
    experiment_ids = []
    for e in range(EXPERIMENTS):
        cursor = db.execute(
            "INSERT INTO experiments (name, created_at) VALUES (?, ?)", (f"bench-{e}", created)
        )
        experiment_ids.append(int(cursor.lastrowid or 0))
    db.executemany(
        "INSERT INTO runs (id, experiment_id, name, status, created_by, start_time, end_time) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            (*row[:5], _sqlite_time(row[5]), _sqlite_time(row[6]))
            for row in rows.runs(experiment_ids)
        ),
    )
    db.executemany("INSERT INTO run_params (run_id, key, value) VALUES (?, ?, ?)", rows.params())
    db.execute("DROP INDEX IF EXISTS ix_run_metrics_history")
    db.executemany(
        "INSERT INTO run_metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)",
        rows.metrics(),
    )
    db.executemany(
        "INSERT INTO run_latest_metrics (run_id, key, value, step, timestamp) "
        "VALUES (?, ?, ?, ?, ?)",
        rows.latest,
    )
    db.commit()
    db.execute(
        "CREATE INDEX ix_run_metrics_history ON run_metrics (run_id, key, step, timestamp, value)"
    )
    db.execute("ANALYZE")
    db.commit()
    db.close()


def _plain_url(database: str) -> str:
    """A libpq URL for psycopg (``postgresql://``), from either spelling."""
    return database.replace("postgresql+psycopg://", "postgresql://", 1)


def _sqlalchemy_url(database: str | None) -> str | None:
    return (
        None
        if not database
        else _plain_url(database).replace("postgresql://", "postgresql+psycopg://", 1)
    )


def _recreate_database(database: str) -> None:
    """Drop and create the bench's database (on the same server, through its ``postgres``)."""
    import psycopg

    url = _plain_url(database)
    name = url.rsplit("/", 1)[1].split("?")[0]
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"--database: {name!r} is not a plain database name")
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def _load_postgres(database: str, rows: Rows) -> None:
    """The same rows by COPY, the metrics' history index built after them."""
    import psycopg

    with psycopg.connect(_plain_url(database)) as db:
        experiment_ids = [
            int(
                db.execute(
                    "INSERT INTO experiments (name, created_at) VALUES (%s, %s) RETURNING id",
                    (f"bench-{e}", datetime(2026, 6, 1, tzinfo=UTC)),
                ).fetchone()[0]  # type: ignore[index]
            )
            for e in range(EXPERIMENTS)
        ]
        with db.cursor() as cursor:
            copies: list[tuple[str, Iterator[tuple[Any, ...]] | list[Any]]] = [
                (
                    "runs (id, experiment_id, name, status, created_by, start_time, end_time)",
                    rows.runs(experiment_ids),
                ),
                ("run_params (run_id, key, value)", rows.params()),
            ]
            for target, source in copies:
                with cursor.copy(f"COPY {target} FROM STDIN") as copy:
                    for row in source:
                        copy.write_row(row)
            cursor.execute("DROP INDEX IF EXISTS ix_run_metrics_history")
            with cursor.copy(
                "COPY run_metrics (run_id, key, value, step, timestamp) FROM STDIN"
            ) as copy:
                for row in rows.metrics():
                    copy.write_row(row)
            with cursor.copy(
                "COPY run_latest_metrics (run_id, key, value, step, timestamp) FROM STDIN"
            ) as copy:
                for row in rows.latest:
                    copy.write_row(row)
            cursor.execute(
                "CREATE INDEX ix_run_metrics_history "
                "ON run_metrics (run_id, key, step, timestamp, value)"
            )
        db.commit()
    with psycopg.connect(_plain_url(database), autocommit=True) as db:
        db.execute("VACUUM ANALYZE")


def reuse(home: Path, database: str | None) -> Store:
    lines = (home / "bench-store.txt").read_text().split()
    return Store(home, lines[0], lines[1], lines[2:], 0.0, database)


def _wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer in {timeout} s")


def start_shipyard(
    home: Path, port: int, log: Path, database: str | None = None
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "shipyard", "server", "--port", str(port)],
            env=environment(home, database),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _wait_http(f"http://127.0.0.1:{port}/healthz", process)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=20)


def quantiles(samples: list[float]) -> tuple[float, float, float, float]:
    """p50, p90, min and max in milliseconds."""
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1e3, p90 * 1e3, ordered[0] * 1e3, ordered[-1] * 1e3


def time_pages(
    browser: Any,
    base: str,
    targets: list[tuple[str, str, Callable[[Any], None]]],
    rounds: int,
    login: Callable[[Any], None] | None = None,
) -> dict[str, list[float]]:
    """Load each target in turn, ``rounds`` times over (one warm-up round not counted)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    if login is not None:
        login(page)
    times: dict[str, list[float]] = {name: [] for name, _, _ in targets}
    for round_ in range(rounds + 1):
        for name, route, wait in targets:
            separator = "&" if "?" in route.split("#")[0] else "?"
            path, _, fragment = route.partition("#")
            url = f"{base}{path or '/'}{separator}round={round_}" + (
                f"#{fragment}" if fragment else ""
            )
            started = time.perf_counter()
            page.goto(url)
            wait(page)
            elapsed = time.perf_counter() - started
            if round_:
                times[name].append(elapsed)
            else:
                FIRST[name] = elapsed
    context.close()
    return times


def time_api(base: str, key: str, all_pages: list[Page], rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {p.name: [] for p in all_pages}
    with httpx.Client(
        base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {key}"}, timeout=120
    ) as http:
        for round_ in range(rounds + 1):
            for p in all_pages:
                started = time.perf_counter()
                for method, path, body in p.calls:
                    answer = http.request(method, path, json=body)
                    if answer.status_code >= 400:
                        raise SystemExit(f"{method} {path}: {answer.status_code} {answer.text}")
                if round_:
                    times[p.name].append(time.perf_counter() - started)
    return times


def shipyard_login(base: str, key: str) -> Callable[[Any], None]:
    """Sign in with the console's form when the page has one, else from the page by fetch."""

    def login(page: Any) -> None:
        page.goto(base + "/")
        page.wait_for_selector(f"#login-key, {READY}", state="attached")
        if page.locator("#login-key").count():
            page.fill("#login-key", key)
            page.click("#login-form button[type=submit]")
            page.wait_for_selector("header nav:not([hidden])")
            return
        status = page.evaluate(
            """async (key) => (await fetch('/console/session', {method: 'POST',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({key})})).status""",
            key,
        )
        if status != 200:
            raise SystemExit(f"console login answered {status}")

    return login


def ready(page: Any) -> None:
    page.wait_for_selector(READY, state="attached")
    problem = page.locator("main .refusal, main .notice-error")
    if problem.count():
        raise SystemExit(f"{page.url}: {problem.first.inner_text()}")


def table(title: str, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def bench_shipyard(store: Store, browser: Any, rounds: int, workdir: Path) -> None:
    port = PORTS[0] or _free_port()
    server = start_shipyard(store.home, port, workdir / "shipyard-server.log", store.database)
    base = f"http://127.0.0.1:{port}"
    try:
        all_pages = pages(store)
        targets = [(p.name, "/" + p.route, ready) for p in all_pages]
        loads = time_pages(
            browser, base, targets, rounds, login=shipyard_login(base, store.admin_key)
        )
        api = time_api(base, store.admin_key, all_pages, rounds)
        time_deep_pages(base, store.admin_key, rounds)
    finally:
        stop(server)
    rows = []
    for p in all_pages:
        p50, p90, low, high = quantiles(loads[p.name])
        a50, a90, _, _ = quantiles(api[p.name])
        rows.append(
            (
                p.name,
                f"{FIRST[p.name] * 1e3:.0f}",
                f"{p50:.0f}",
                f"{p90:.0f}",
                f"{low:.0f}-{high:.0f}",
                f"{a50:.1f}",
                f"{a90:.1f}",
                str(len(p.calls)),
            )
        )
    table(
        f"Shipyard console on {'PostgreSQL' if store.database else 'SQLite'}, page load until "
        f"data-ready ({rounds} rounds)",
        rows,
        (
            "page",
            "first ms",
            "p50 ms",
            "p90 ms",
            "range ms",
            "API p50 ms",
            "API p90 ms",
            "API calls",
        ),
    )


DEEP_SEARCHES: list[tuple[str, dict[str, Any]]] = [
    ("all runs, newest first", {"order_by": ["attributes.start_time DESC"]}),
    ("one experiment, by metric", {"experiments": ["bench-3"], "order_by": ["metrics.loss ASC"]}),
    ("all runs, by param", {"order_by": ["params.seed DESC"]}),
]


def time_deep_pages(base: str, key: str, rounds: int) -> None:
    """Run search's first page beside a page deep in the same search (its token reached by
    walking 1,000-run pages): keyset pages cost the same wherever they start."""
    rows = []
    with httpx.Client(
        base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {key}"}, timeout=300
    ) as http:

        def search(body: dict[str, Any]) -> dict[str, Any]:
            answer = http.post("/runs/search", json=body)
            if answer.status_code >= 400:
                raise SystemExit(f"runs/search: {answer.status_code} {answer.text}")
            found: dict[str, Any] = answer.json()
            return found

        for name, body in DEEP_SEARCHES:
            token, skipped, seen = None, 0, 0
            page = search(body | {"max_results": 1000})
            while page.get("next_page_token"):  # to the start of the last full page
                following = page["next_page_token"]
                seen += len(page["runs"])
                page = search(body | {"max_results": 1000, "page_token": following})
                if len(page["runs"]) == 1000:
                    token, skipped = following, seen
            times: dict[str, list[float]] = {"first": [], "deep": []}
            for _ in range(rounds):
                for which, start in (("first", None), ("deep", token)):
                    started = time.perf_counter()
                    search(body | {"max_results": 50, "page_token": start})
                    times[which].append(time.perf_counter() - started)
            f50, f90, _, _ = quantiles(times["first"])
            d50, d90, _, _ = quantiles(times["deep"])
            rows.append(
                (name, f"{f50:.1f}", f"{f90:.1f}", f"{skipped:,}", f"{d50:.1f}", f"{d90:.1f}")
            )
    table(
        f"Run search, first page vs a deep page (50 runs a page, {rounds} rounds, alternated)",
        rows,
        (
            "search",
            "first p50 ms",
            "first p90 ms",
            "deep page after run",
            "deep p50 ms",
            "deep p90 ms",
        ),
    )


PORTS = [0]
FIRST: dict[str, float] = {}  # each page's first load (cold caches), not in the quantiles


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# MLflow, on the same runs and metrics


def load_mlflow(db_path: Path, shipyard_db: Path, artifacts: Path) -> tuple[str, str, str]:
    """Copy the generated experiments, runs, params and metrics into MLflow's schema.

    Returns (experiment id, a run id of it, the long run's id) for the pages to open.
    """
    src = sqlite3.connect(shipyard_db)
    dst = sqlite3.connect(db_path)
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("PRAGMA synchronous=OFF")
    names = {
        row[0]: row[1]
        for row in src.execute("SELECT id, name FROM experiments WHERE name LIKE 'bench-%'")
    }
    mapping: dict[int, int] = {}
    now_ms = int(time.time() * 1000)
    for sid, name in names.items():
        cursor = dst.execute(
            "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, "
            "last_update_time) VALUES (?, ?, 'active', ?, ?)",
            (name, str(artifacts / name), now_ms, now_ms),
        )
        mapping[sid] = int(cursor.lastrowid or 0)
    columns = {row[1] for row in dst.execute("PRAGMA table_info(runs)")}
    run_rows = src.execute(
        "SELECT r.id, r.experiment_id, r.name, r.start_time FROM runs r "
        "JOIN experiments e ON e.id = r.experiment_id WHERE e.name LIKE 'bench-%' ORDER BY r.rowid"
    ).fetchall()

    def mlflow_runs() -> Iterator[tuple[Any, ...]]:
        for i, (run_id, experiment, name, _start) in enumerate(run_rows):
            start_ms = int((T0 + i * 30) * 1000)
            yield (
                run_id,
                name,
                "LOCAL",
                "",
                "",
                "admin",
                "FINISHED",
                start_ms,
                start_ms + 20_000,
                "",
                "active",
                str(artifacts / run_id),
                mapping[experiment],
            )

    base_columns = (
        "run_uuid, name, source_type, source_name, entry_point_name, user_id, status, "
        "start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id"
    )
    assert {c.strip() for c in base_columns.split(",")} <= columns
    dst.executemany(
        f"INSERT INTO runs ({base_columns}) VALUES ({', '.join('?' * 13)})", mlflow_runs()
    )
    dst.executemany(
        "INSERT INTO tags (key, value, run_uuid) VALUES ('mlflow.runName', ?, ?)",
        ((name, run_id) for run_id, _, name, _ in run_rows),
    )
    dst.executemany(
        "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
        src.execute("SELECT key, value, run_id FROM run_params"),
    )
    dst.executemany(
        "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
        "VALUES (?, ?, ?, ?, ?, 0)",
        (
            (key, value, int(stamp * 1000), run_id, step)
            for run_id, key, value, step, stamp in src.execute(
                "SELECT run_id, key, value, step, timestamp FROM run_metrics"
            )
        ),
    )
    dst.executemany(
        "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
        "VALUES (?, ?, ?, ?, 0, ?)",
        (
            (key, value, int(stamp * 1000), step, run_id)
            for run_id, key, value, step, stamp in src.execute(
                "SELECT run_id, key, value, step, timestamp FROM run_latest_metrics"
            )
        ),
    )
    dst.commit()
    first_experiment = mapping[min(mapping)]
    long_run = run_rows[0][0]
    some_run = next(r[0] for r in run_rows if mapping[r[1]] == first_experiment)
    src.close()
    dst.close()
    return str(first_experiment), some_run, long_run


def bench_mlflow(store: Store, browser: Any, rounds: int, workdir: Path) -> str:
    """Time MLflow's experiment and run pages; returns why not when it cannot run."""
    try:
        import _mlflow_env

        venv = _mlflow_env.ensure_venv()
        version = _mlflow_env.mlflow_version(venv)
    except Exception as problem:
        return f"MLflow could not be installed in bench/.venv-mlflow: {problem}"
    mlflow = venv / "bin" / "mlflow"
    db_path = workdir / "mlflow.db"
    if not db_path.exists():
        started = time.monotonic()
        upgraded = subprocess.run(
            [str(mlflow), "db", "upgrade", f"sqlite:///{db_path}"], capture_output=True, text=True
        )
        if upgraded.returncode:
            return f"`mlflow db upgrade` failed: {upgraded.stderr[-500:]}"
        ids = load_mlflow(db_path, store.home / "shipyard.db", workdir / "mlartifacts")
        (workdir / "mlflow-ids.txt").write_text("\n".join(ids))
        took = time.monotonic() - started
        print(f"loaded the runs and metrics into MLflow's SQLite in {took:.0f} s")
    experiment, _some_run, long_run = (workdir / "mlflow-ids.txt").read_text().split()
    port = PORTS[0] + 1 if PORTS[0] else _free_port()
    with (workdir / "mlflow-server.log").open("wb") as out:
        process = subprocess.Popen(
            [
                str(mlflow),
                "server",
                "--backend-store-uri",
                f"sqlite:///{db_path}",
                "--default-artifact-root",
                str(workdir / "mlartifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"},
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{base}/health", process)

        def run_table(page: Any) -> None:
            page.wait_for_selector("text=/^run-\\d+$/", timeout=300_000)

        def run_page(page: Any) -> None:
            page.wait_for_selector("text=run-0", timeout=300_000)
            page.wait_for_selector("text=loss", timeout=300_000)

        targets = [
            ("experiment page (run table)", f"/#/experiments/{experiment}/runs", run_table),
            ("run page (100k-point run)", f"/#/experiments/{experiment}/runs/{long_run}", run_page),
        ]
        loads = time_pages(browser, base, targets, rounds)
    finally:
        stop(process)
    rows = []
    for name, _, _ in targets:
        p50, p90, low, high = quantiles(loads[name])
        first = f"{FIRST[name] * 1e3:.0f}"
        rows.append((name, first, f"{p50:.0f}", f"{p90:.0f}", f"{low:.0f}-{high:.0f}"))
    table(
        f"MLflow {version} UI on the same data ({rounds} rounds)",
        rows,
        ("page", "first ms", "p50 ms", "p90 ms", "range ms"),
    )
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--home", type=Path, default=None, help="generate into (or reuse) DIR")
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument(
        "--deep-pages-only", action="store_true", help="only run search's first vs deep page"
    )
    parser.add_argument(
        "--database",
        default=None,
        help="a PostgreSQL URL (postgresql://host:port/db) to load and serve the store from; "
        "the database is dropped and created anew when the store is generated",
    )
    parser.add_argument("--port", type=int, default=0, help="Shipyard's port (MLflow's: +1)")
    args = parser.parse_args()
    PORTS[0] = args.port
    from playwright.sync_api import sync_playwright

    temporary = None
    if args.home is None:
        temporary = Path(tempfile.mkdtemp(prefix="shipyard-console-bench-"))
        workdir = temporary
    else:
        workdir = args.home
    home = workdir / "home"
    try:
        if (home / "bench-store.txt").exists():
            store = reuse(home, args.database)
            print(f"reusing the store in {home}")
        else:
            store = generate(home, args.runs, args.points, args.database)
            print(
                f"generated {args.runs:,} runs and {args.points:,} metric points "
                f"(plus the quickstart) in {store.generated_seconds:.0f} s"
            )
        if args.deep_pages_only:
            port = PORTS[0] or _free_port()
            log = workdir / "shipyard-server.log"
            server = start_shipyard(store.home, port, log, store.database)
            try:
                time_deep_pages(f"http://127.0.0.1:{port}", store.admin_key, args.rounds)
            finally:
                stop(server)
            return
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                bench_shipyard(store, browser, args.rounds, workdir)
                if args.database and not args.no_mlflow:
                    print("\nMLflow is compared on SQLite only (run without --database)")
                elif not args.no_mlflow:
                    why_not = bench_mlflow(store, browser, args.rounds, workdir)
                    if why_not:
                        print(f"\nMLflow not compared: {why_not}")
            finally:
                browser.close()
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


if __name__ == "__main__":
    main()
