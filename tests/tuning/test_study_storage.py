"""The study storage opened by several processes at once, the first time: Optuna creates
its tables on first open, and without a lock one of them failed ("table trials already
exists"), which failed a job whose study was being read by a client at that moment."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import sqlalchemy as sa

from shipyard.config import Settings
from shipyard.tuning import storage_target


def _open(settings: Settings, start: multiprocessing.synchronize.Barrier) -> None:
    from shipyard.tuning._storage import open_storage

    start.wait(timeout=300)  # spawned interpreters import slowly on a busy machine
    open_storage(settings).get_all_studies()


def test_processes_opening_a_new_storage_at_once_all_succeed(
    tmp_path: Path, metadata_url: str
) -> None:
    (tmp_path / "home").mkdir(exist_ok=True)
    settings = Settings(home=tmp_path / "home", database_url=metadata_url)
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(4)
    workers = [spawn.Process(target=_open, args=(settings, start)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]

    url, options = storage_target(settings)
    engine = sa.create_engine(url, **options)
    try:
        assert "trials" in sa.inspect(engine).get_table_names()
        if not url.startswith("sqlite"):
            schema = options["connect_args"]["options"].removeprefix("-csearch_path=")
            with engine.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        engine.dispose()
