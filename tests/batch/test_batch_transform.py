"""Batch transform: whole dataset versions scored in chunks, concurrently and resumably."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import lightgbm
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from batchkit import FEATURES, ROWS, register_model
from sklearn.linear_model import LogisticRegression
from tests.cli.inprocess import run as in_process
from tests.conftest import LiveServer
from tests.edge.edgekit import ingest_frame, register_fitted, signature_of

from shipyard.api import create_app
from shipyard.batch import _service as batch_service
from shipyard.batch import create_batch_job, get_batch_job, resume_batch_job
from shipyard.client import Client, HttpTransport
from shipyard.config import Settings
from shipyard.data import write_parquet_bytes
from shipyard.datasets import find_version, ingest, load_version_table
from shipyard.errors import Conflict, InvalidInput, JobFailed
from shipyard.platform import Platform
from shipyard.security import bootstrap, context_for, issue_admin_key_if_none
from shipyard.store.metadata import export_tables as x
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import tables as t


@pytest.fixture
def home_platform(tmp_path: Path) -> Iterator[Platform]:
    platform = Platform.open(Settings(home=tmp_path / "home"))
    bootstrap(platform)
    yield platform
    platform.close()


@pytest.fixture
def sdk(home_platform: Platform) -> Iterator[Client]:
    """The SDK over HTTP against a live server (the in-process SDK runs the other tests)."""
    key = issue_admin_key_if_none(home_platform)
    assert key is not None
    server = LiveServer(create_app(home_platform))
    client = Client(transport=HttpTransport(server.url, key.token))
    yield client
    client.close()
    server.close()


def _expected(rows: pd.DataFrame, booster: lightgbm.LGBMClassifier) -> np.ndarray:
    return np.asarray(booster.predict_proba(rows[FEATURES].to_numpy()))


def test_scores_every_row_into_a_new_canonical_version(
    sdk: Client,
    home_platform: Platform,
    rows: pd.DataFrame,
    booster: lightgbm.LGBMClassifier,
) -> None:
    register_model(home_platform, rows, booster)
    logged: list[str] = []
    job = sdk.batch.transform(
        "m@champion",
        "numbers@1",
        "scored",
        keep_columns=["id", "region"],
        chunk_rows=700,
        workers=2,
        on_log=logged.append,
        timeout=180,
    )

    assert job.status == "succeeded" and job.output_version == "scored@1"
    assert job.model == "m@1" and job.chunks_total == job.chunks_done == 5
    with home_platform.db.session() as session:
        version = find_version(session, "scored", 1)
        chunks = session.scalars(sa.select(x.BatchChunk).where(x.BatchChunk.job_id == job.id))
        digests = [c.digest for c in chunks]
    table = load_version_table(home_platform, version)
    assert table.column_names == ["id", "region", "prediction", "probability_0", "probability_1"]
    output = table.to_pandas()
    np.testing.assert_array_equal(output["id"], rows["id"])
    assert output["region"].tolist() == rows["region"].tolist()
    expected = _expected(rows, booster)
    np.testing.assert_allclose(output[["probability_0", "probability_1"]], expected, atol=1e-12)
    np.testing.assert_array_equal(output["prediction"], expected.argmax(axis=1))
    canonical = write_parquet_bytes(table)
    assert version.digest == "sha256:" + hashlib.sha256(canonical).hexdigest()
    assert version.rows == ROWS and version.profile["rows"] == ROWS
    assert "sample" not in version.profile
    assert [c["name"] for c in version.schema][2:] == ["prediction", *expected_probability_names()]
    assert len(digests) == 5 and not any(home_platform.blobs.exists(d) for d in digests)
    text = "".join(logged)
    assert "chunk 5/5" in text and "registered dataset version scored@1" in text


def expected_probability_names() -> list[str]:
    return ["probability_0", "probability_1"]


_CRASH_AFTER_TWO_CHUNKS = """
import os, sys
from shipyard.batch import _runner
from shipyard.jobs import _worker_main
finish = _runner._Job._finish
def crashing(self, *args):
    output = finish(self, *args)
    if self.finished == 2:
        os._exit(9)
    return output
_runner._Job._finish = crashing
sys.exit(_worker_main.main(["main", sys.argv[1], "shipyard.batch._runner:run"]))
"""


def test_resumed_job_does_not_redo_finished_chunks(
    platform: Platform,
    rows: pd.DataFrame,
    booster: lightgbm.LGBMClassifier,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    register_model(platform, rows, booster)
    ctx = context_for(platform, "admin")
    with monkeypatch.context() as patched:
        patched.setattr(batch_service.control, "launch", lambda platform, kind, job_id: None)
        job = create_batch_job(
            ctx,
            "m@1",
            "numbers@1",
            "scored",
            output_columns=["probability_1"],
            chunk_rows=500,
            workers=1,
        )
    crashed = subprocess.run(
        [sys.executable, "-c", _CRASH_AFTER_TWO_CHUNKS, job.id],
        input=platform.settings.model_dump_json().encode(),
        capture_output=True,
        timeout=180,
        check=False,
    )
    assert crashed.returncode == 9, crashed.stdout.decode() + crashed.stderr.decode()
    assert get_batch_job(ctx, job.id).chunks_done == 2

    resumed = resume_batch_job(ctx, job.id)
    assert resumed.status == "pending"
    with pytest.raises(Conflict):
        resume_batch_job(ctx, job.id)
    done = Client(settings=platform.settings).batch.wait(job.id, timeout=180)

    assert done.status == "succeeded" and done.attempts == 2 and done.chunks_done == 6
    with platform.db.session() as session:
        attempts = dict(
            session.execute(
                sa.select(x.BatchChunk.chunk, x.BatchChunk.attempt).where(
                    x.BatchChunk.job_id == job.id
                )
            ).all()
        )
        version = find_version(session, "scored", 1)
    assert attempts == {0: 1, 1: 1, 2: 2, 3: 2, 4: 2, 5: 2}
    log = batch_service.log_path(platform, job.id).read_text()
    assert "2 finished before" in log and "reused" in log
    output = load_version_table(platform, version).to_pandas()
    assert output.columns.tolist() == ["probability_1"]
    np.testing.assert_allclose(output["probability_1"], _expected(rows, booster)[:, 1], atol=1e-12)
    with pytest.raises(Conflict, match="already succeeded"):
        resume_batch_job(ctx, job.id)


def test_bad_input_is_refused_before_any_job_starts(
    home_platform: Platform, rows: pd.DataFrame, booster: lightgbm.LGBMClassifier
) -> None:
    register_model(home_platform, rows, booster)
    ctx = context_for(home_platform, "admin")
    broken = rows.drop(columns=["f1", "f3"]).assign(f2=lambda f: f["f2"].astype(str))
    ingest_frame(home_platform, "broken", broken)

    with pytest.raises(InvalidInput) as mismatch:
        create_batch_job(ctx, "m@1", "broken@1", "out")
    assert mismatch.value.field == "input"
    message = str(mismatch.value)
    assert "missing input columns ['f1', 'f3']" in message
    assert "f2 (model expects float, dataset has string)" in message
    cases = [
        ({"keep_columns": ["nope"]}, "keep_columns"),
        ({"keep_columns": ["id", "id"]}, "keep_columns"),
        ({"output_columns": ["probability_7"]}, "output_columns"),
        ({"output_columns": []}, "output_columns"),
        ({"chunk_rows": 0}, "chunk_rows"),
        ({"workers": 0}, "workers"),
    ]
    for options, field in cases:
        with pytest.raises(InvalidInput) as caught:
            create_batch_job(ctx, "m@1", "numbers@1", "out", **options)  # type: ignore[arg-type]
        assert caught.value.field == field, options
    with pytest.raises(InvalidInput) as alias:
        create_batch_job(ctx, "m@1", "numbers@latest", "out")
    assert alias.value.field == "input"
    with home_platform.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(x.BatchJob)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(j.Job)) == 0


def test_cli_scores_a_partitioned_dataset(
    home_platform: Platform, rows: pd.DataFrame, booster: lightgbm.LGBMClassifier
) -> None:
    register_model(home_platform, rows, booster)
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), sink)
    ingest(
        context_for(home_platform, "admin"),
        "by-region",
        sink.getvalue(),
        filename="rows.parquet",
        partition_by="region",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["SHIPYARD_HOME"] = str(home_platform.settings.home)
    run = in_process(
        env,
        "batch-transform",
        *("--model", "m@champion", "--input", "by-region", "--output", "scored"),
        *("--keep-columns", "id", "--output-columns", "prediction"),
        *("--chunk-rows", "1000", "--workers", "1"),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "scored@1" in run.stdout and "chunk 4/4" in run.stdout, run.stdout
    with home_platform.db.session() as session:
        output = load_version_table(home_platform, find_version(session, "scored", 1))
    scored = output.to_pandas().set_index("id").sort_index()
    expected = _expected(rows, booster).argmax(axis=1)
    np.testing.assert_array_equal(scored.index, rows["id"])
    np.testing.assert_array_equal(scored["prediction"], expected)
    job_id = run.stdout.split("batch job ")[1].split(":")[0]
    again = in_process(env, "batch-transform", "--resume", job_id)
    assert again.returncode == 1 and "already succeeded" in again.stderr, again.stderr
    assert "Traceback" not in again.stderr


def test_a_python_level_model_scores_in_the_job_process_when_workers_would_not_pay_off(
    platform: Platform, rows: pd.DataFrame, booster: lightgbm.LGBMClassifier
) -> None:
    register_model(platform, rows, booster)
    estimator = LogisticRegression().fit(rows[FEATURES].to_numpy(), rows["y"])
    signature = signature_of(rows[[*FEATURES, "y"]], "y", [0, 1])
    register_fitted(platform, "lr", estimator, signature, None)
    logged: list[str] = []
    job = Client(settings=platform.settings).batch.transform(
        "lr@1",
        "numbers@1",
        "scored-lr",
        keep_columns=["id"],
        chunk_rows=1000,
        workers=2,
        on_log=logged.append,
        timeout=180,
    )

    assert job.status == "succeeded" and job.chunks_done == 3
    assert "too little work to start workers" in "".join(logged)
    with platform.db.session() as session:
        version = find_version(session, "scored-lr", 1)
    output = load_version_table(platform, version).to_pandas()
    expected = estimator.predict_proba(rows[FEATURES].to_numpy())
    np.testing.assert_array_equal(output["id"], rows["id"])
    np.testing.assert_allclose(output[["probability_0", "probability_1"]], expected, atol=1e-12)
    assert version.profile["method"]["kind"] == "streaming"


def test_a_corrupt_input_file_fails_the_job_before_any_output_is_registered(
    platform: Platform, rows: pd.DataFrame, booster: lightgbm.LGBMClassifier
) -> None:
    register_model(platform, rows, booster)
    with platform.db.session() as session:
        digest = find_version(session, "numbers", 1).digest
    stored = platform.blobs.file_path(digest)  # read in place by the job, checked meanwhile
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped bit in the middle of a data page
    stored.write_bytes(bytes(data))

    client = Client(settings=platform.settings)
    with pytest.raises(JobFailed):
        client.batch.transform("m@1", "numbers@1", "scored", chunk_rows=700, timeout=180)
    (job,) = client.batch.list()
    assert job.status == "failed" and f"blob {digest} is corrupt" in job.message, job.message
    assert job.chunks_done == 0  # nothing scored from the corrupt read is kept for a resume
    with platform.db.session() as session:
        assert session.scalar(sa.select(t.Dataset).where(t.Dataset.name == "scored")) is None
        assert session.scalar(sa.select(sa.func.count()).select_from(x.BatchChunk)) == 0


def test_a_cancelled_job_can_be_resumed(
    platform: Platform,
    rows: pd.DataFrame,
    booster: lightgbm.LGBMClassifier,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    register_model(platform, rows, booster)
    ctx = context_for(platform, "admin")
    with monkeypatch.context() as patched:
        patched.setattr(batch_service.control, "launch", lambda platform, kind, job_id: None)
        job = create_batch_job(ctx, "m@1", "numbers@1", "scored", chunk_rows=1000, workers=1)
    client = Client(settings=platform.settings)
    cancelled = client.batch.cancel(job.id)
    assert cancelled.status == "cancelled" and cancelled.ended_at is not None
    with pytest.raises(Conflict, match="already cancelled"):
        client.batch.cancel(job.id)
    resume_batch_job(ctx, job.id)
    done = client.batch.wait(job.id, timeout=180)
    assert done.status == "succeeded" and done.attempts == 1 and done.resources is not None
