"""Migration 0113: training and batch jobs of the old two tables move into ``jobs``."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from tests.jobs.conftest import HELPERS, TRAIN, write_code

from shipyard.client import Client
from shipyard.platform import Platform
from shipyard.store.metadata import export_tables as x
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import tables as t

_OLD_TABLES = [
    "DROP TABLE training_jobs",
    "DROP TABLE batch_chunks",
    "DROP TABLE batch_jobs",
    "DROP TABLE job_code_files",
    "DROP TABLE jobs",
    """CREATE TABLE training_jobs (id VARCHAR(32) PRIMARY KEY, name VARCHAR(200) NOT NULL,
    spec JSON NOT NULL, dataset_version_id INTEGER NOT NULL REFERENCES dataset_versions(id),
    status VARCHAR(20) NOT NULL, progress FLOAT NOT NULL, message TEXT NOT NULL,
    run_id VARCHAR(32) REFERENCES runs(id), created_by VARCHAR(100) NOT NULL,
    created_at DATETIME NOT NULL, ended_at DATETIME)""",
    """CREATE TABLE batch_jobs (id VARCHAR(32) PRIMARY KEY,
    model_version_id INTEGER NOT NULL REFERENCES model_versions(id),
    input_version_id INTEGER NOT NULL REFERENCES dataset_versions(id),
    output_name VARCHAR(100) NOT NULL, spec JSON NOT NULL, status VARCHAR(20) NOT NULL,
    progress FLOAT NOT NULL, message TEXT NOT NULL, chunks_total INTEGER NOT NULL,
    chunks_done INTEGER NOT NULL, attempts INTEGER NOT NULL, pid INTEGER,
    output_version_id INTEGER REFERENCES dataset_versions(id),
    created_by VARCHAR(100) NOT NULL, created_at DATETIME NOT NULL, ended_at DATETIME)""",
    """CREATE TABLE batch_chunks (job_id VARCHAR(32) NOT NULL REFERENCES batch_jobs(id)
    ON DELETE CASCADE, chunk INTEGER NOT NULL, rows BIGINT NOT NULL, digest VARCHAR(80) NOT NULL,
    attempt INTEGER NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (job_id, chunk))""",
]


def test_old_job_rows_move_into_the_jobs_table(data_platform: Platform, tmp_path: Path) -> None:
    if not data_platform.db.is_sqlite:
        return  # the rows move the same way; the old tables are rebuilt here in SQLite's DDL
    code = write_code(tmp_path / "code", {"train.py": TRAIN, "helpers.py": HELPERS})
    client = Client(settings=data_platform.settings)
    spec = {"entrypoint": "train.py:main", "dataset": "bc@1", "params": {"max_iter": 300}}
    job = client.training.train(spec, script=code / "train.py", timeout=180)
    assert job.run_id is not None
    version = client.models.register("m", job.run_id)
    with data_platform.db.session() as session:
        dataset_version = session.scalar(sa.select(t.DatasetVersion.id))
        model_version = session.scalar(sa.select(t.ModelVersion.id))
    stamp = "2026-12-01 10:00:00.000000"
    with data_platform.db.engine.begin() as connection:
        for statement in _OLD_TABLES:
            connection.execute(sa.text(statement))
        connection.execute(
            sa.text(
                "INSERT INTO training_jobs VALUES ('t1', 'old', '{\"experiment\": \"exp\"}', :v, "
                "'succeeded', 1.0, 'auc=0.9', :run, 'alice', :at, :at)"
            ),
            {"v": dataset_version, "run": job.run_id, "at": stamp},
        )
        connection.execute(
            sa.text(
                "INSERT INTO batch_jobs VALUES ('b1', :m, :v, 'scores', '{\"model\": \"m@1\"}', "
                "'running', 0.5, 'chunk 1 of 2', 2, 1, 1, 4242, NULL, 'bob', :at, NULL)"
            ),
            {"m": model_version, "v": dataset_version, "at": stamp},
        )
        connection.execute(
            sa.text("INSERT INTO batch_chunks VALUES ('b1', 0, 10, 'sha256:ab', 1, :at)"),
            {"at": stamp},
        )
        # as before 0113: the other heads stay, 0103 is a head again (0113 depends on it);
        # 0117 (tuning jobs), 0118 (AutoML jobs) and 0128 (pipelines) depend on 0113, so
        # they come after it
        for table in ("tuning_jobs", "automl_jobs", "pipeline_outputs", "pipeline_steps"):
            connection.execute(sa.text(f"DROP TABLE {table}"))
        connection.execute(sa.text("DROP TABLE pipeline_runs"))
        connection.execute(sa.text("DROP TABLE pipelines"))
        connection.execute(
            sa.text(
                "DELETE FROM alembic_version WHERE version_num IN ('0113_one_job_table',"
                " '0117_tuning_jobs', '0118_automl_jobs', '0128_pipelines')"
            )
        )
        connection.execute(sa.text("INSERT INTO alembic_version VALUES ('0103_model_exports')"))
    data_platform.close()

    reopened = Platform.open(data_platform.settings)
    try:
        with reopened.db.session() as session:
            old = session.get(j.Job, "t1")
            batch = session.get(j.Job, "b1")
            assert old is not None and batch is not None
            assert (old.kind, old.name, old.scope, old.status, old.run_id, old.created_by) == (
                "training",
                "old",
                "exp",
                "succeeded",
                job.run_id,
                "alice",
            )
            assert (batch.kind, batch.scope, batch.status, batch.created_by) == (
                "batch",
                "scores",
                "failed",
                "bob",
            )
            assert batch.message == "interrupted by an upgrade"
            kept = session.get(x.BatchJob, "b1")
            assert kept is not None and kept.chunks_done == 1
            chunks = session.scalars(sa.select(x.BatchChunk.digest)).all()
            assert chunks == ["sha256:ab"]
            training = session.get(t.TrainingJob, "t1")
            assert training is not None and training.spec == {"experiment": "exp"}
        assert version.version == 1
    finally:
        reopened.close()


def test_downgrade_puts_job_state_back_and_upgrade_moves_it_again(
    data_platform: Platform, tmp_path: Path
) -> None:
    from alembic import command
    from alembic.config import Config

    code = write_code(tmp_path / "code", {"train.py": TRAIN, "helpers.py": HELPERS})
    client = Client(settings=data_platform.settings)
    spec = {"entrypoint": "train.py:main", "dataset": "bc@1", "params": {"max_iter": 300}}
    job = client.training.train(spec, script=code / "train.py", timeout=180)
    with data_platform.db.session() as session:
        session.get(j.Job, job.id).status = "cancelled"  # type: ignore[union-attr]
    config = Config()
    config.set_main_option("script_location", str(Path(t.__file__).parent / "migrations"))
    with data_platform.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0112_security_generation")
    with data_platform.db.engine.connect() as connection:
        assert "jobs" not in sa.inspect(connection).get_table_names()
        old = connection.execute(
            sa.text("SELECT name, status, run_id, created_by FROM training_jobs")
        ).one()
    assert (old.status, old.run_id, old.created_by) == ("failed", job.run_id, "admin")
    assert old.name == job.name
    data_platform.close()

    reopened = Platform.open(data_platform.settings)
    try:
        with reopened.db.session() as session:
            moved = session.get(j.Job, job.id)
            assert moved is not None
            assert (moved.kind, moved.status, moved.run_id) == ("training", "failed", job.run_id)
    finally:
        reopened.close()
