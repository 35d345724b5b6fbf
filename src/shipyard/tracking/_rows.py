"""Finding runs and experiments, and naming a run for authorization."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.errors import NotFound
from shipyard.names import check_name
from shipyard.security import ResourceName
from shipyard.store.metadata import tables as t
from shipyard.store.metadata import tombstone_text

_RUN_EXPERIMENTS: dict[str, str] = {}
"""Run id -> experiment name, for authorizing the tracking hot path without a query per
call: a run never moves to another experiment and run ids are random 128-bit values."""


def run_resource(session: Session, run_id: str) -> ResourceName:
    """``sy:run/<experiment>/<run_id>`` (also ``sy:run/<run_id>``): runs are scoped by their
    experiment, so a policy can give a tenant its experiments' runs and nothing else."""
    experiment = _RUN_EXPERIMENTS.get(run_id)
    if experiment is None:
        experiment = session.scalar(
            sa.select(t.Experiment.name)
            .join(t.Run, t.Run.experiment_id == t.Experiment.id)
            .where(t.Run.id == run_id)
        )
        if experiment is not None:
            if len(_RUN_EXPERIMENTS) >= 10_000:
                _RUN_EXPERIMENTS.clear()
            _RUN_EXPERIMENTS[run_id] = experiment
    return ResourceName.scoped("run", experiment, run_id)


def ensure_experiment(session: Session, name: str) -> t.Experiment:
    """The experiment named ``name``, created when missing."""
    check_name(name, field="experiment")
    row = session.scalar(sa.select(t.Experiment).where(t.Experiment.name == name))
    if row is None:
        row = t.Experiment(name=name)
        session.add(row)
        session.flush()
    return row


def run_row(session: Session, run_id: str, field: str = "run_id") -> t.Run:
    """The run ``run_id``; NotFound naming ``field`` when there is none, or when it was
    purged (saying who purged it, when and why: its row is only a lineage tombstone)."""
    row = session.get(t.Run, run_id)
    if row is None:
        raise NotFound(f"run {run_id!r} does not exist", field=field)
    if row.purged_at is not None:
        raise NotFound(f"run {run_id!r} was purged {tombstone_text(row, 'purged')}", field=field)
    return row
