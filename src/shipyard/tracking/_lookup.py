"""Reading one experiment, and finding experiments by their numeric id.

Adapters that speak numeric experiment ids (MLflow's REST API) resolve an id to the
name before calling the operation that is authorized on ``sy:experiment/<name>``, as
aliases are resolved before a model version is checked.
"""

from __future__ import annotations

import sqlalchemy as sa

from shipyard.errors import NotFound
from shipyard.names import resource
from shipyard.platform import Platform
from shipyard.schemas.tracking import ExperimentInfo
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import tables as t


def experiment_name(platform: Platform, experiment_id: int) -> str:
    """The name of the experiment with this numeric id."""
    with platform.db.session() as session:
        name = session.scalar(sa.select(t.Experiment.name).where(t.Experiment.id == experiment_id))
    if name is None:
        raise NotFound(f"experiment id {experiment_id} does not exist", field="experiment_id")
    return name


def experiment_id(platform: Platform, name: str) -> int:
    """The numeric id of the experiment named ``name``."""
    with platform.db.session() as session:
        found = session.scalar(sa.select(t.Experiment.id).where(t.Experiment.name == name))
    if found is None:
        raise NotFound(f"experiment {name!r} does not exist", field="experiment")
    return found


@operation("tracking:GetExperiment", lambda name: resource("experiment", name), mutating=False)
def get_experiment(ctx: RequestContext, name: str) -> ExperimentInfo:
    """One experiment with its id and number of runs."""
    query = (
        sa.select(t.Experiment, sa.func.count(t.Run.id))
        .outerjoin(t.Run, t.Run.experiment_id == t.Experiment.id)
        .where(t.Experiment.name == name)
        .group_by(t.Experiment.id)
    )
    with ctx.platform.db.session() as session:
        found = session.execute(query).first()
        if found is None:
            raise NotFound(f"experiment {name!r} does not exist", field="name")
        row, runs = found
        return ExperimentInfo(name=row.name, id=row.id, created_at=row.created_at, runs=runs)
