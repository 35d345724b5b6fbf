"""The registered model versions a run continued from (``init_model``): a version's parents."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.store.metadata import tables as t


def parents_of_runs(session: Session, run_ids: Sequence[str]) -> dict[str, list[str]]:
    """``run id -> ['name@version', ...]``: the model versions each run continued from."""
    if not run_ids:
        return {}
    found: dict[str, list[str]] = {}
    query = (
        sa.select(t.RunModelInput.run_id, t.Model.name, t.ModelVersion.version)
        .join(t.ModelVersion, t.ModelVersion.id == t.RunModelInput.model_version_id)
        .join(t.Model, t.Model.id == t.ModelVersion.model_id)
        .where(t.RunModelInput.run_id.in_(list(run_ids)))
        .order_by(t.Model.name, t.ModelVersion.version)
    )
    for run_id, name, version in session.execute(query):
        found.setdefault(run_id, []).append(f"{name}@{version}")
    return found


def parent_version_rows(session: Session, run_id: str) -> list[t.ModelVersion]:
    """The model version rows the run continued from."""
    return list(
        session.scalars(
            sa.select(t.ModelVersion)
            .join(t.RunModelInput, t.RunModelInput.model_version_id == t.ModelVersion.id)
            .where(t.RunModelInput.run_id == run_id)
            .order_by(t.ModelVersion.id)
        )
    )
