"""A job whose worker no longer holds its lock is reconciled: failed if it recorded nothing,
left as recorded if it recorded its outcome between the reader's read and its lock check."""

from __future__ import annotations

from shipyard.jobs._control import _reconciled, new_job
from shipyard.jobs._training import TRAINING
from shipyard.platform import Platform
from shipyard.schemas.jobs import JobLimits
from shipyard.store.metadata import job_tables as j


def _running_job(platform: Platform) -> str:
    with platform.db.session() as session:
        row = new_job(
            session, TRAINING, name="r", scope="default", principal="admin", limits=JobLimits()
        )
        row.status = "running"
        return row.id


def test_a_running_job_without_its_lock_failed_unrecorded(platform: Platform) -> None:
    job_id = _running_job(platform)
    with platform.db.session() as session:
        row = _reconciled(platform, session, session.get_one(j.Job, job_id))
        assert row.status == "failed"
        assert row.message == "the worker process ended without recording an outcome"
    with platform.db.session() as session:
        assert session.get_one(j.Job, job_id).status == "failed"


def test_an_outcome_recorded_after_the_read_is_not_overwritten(platform: Platform) -> None:
    job_id = _running_job(platform)
    with platform.db.session() as reader:
        seen = reader.get_one(j.Job, job_id)
        assert seen.status == "running"
        # The worker records its outcome and lets go of its lock after the reader's read.
        with platform.db.session() as worker:
            done = worker.get_one(j.Job, job_id)
            done.status, done.message = "succeeded", "model registered"
        row = _reconciled(platform, reader, seen)
        assert (row.status, row.message) == ("succeeded", "model registered")
    with platform.db.session() as session:
        assert session.get_one(j.Job, job_id).status == "succeeded"
