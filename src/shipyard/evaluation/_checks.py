"""Reading recorded gate decisions (no evaluation machinery, so the registry can import it)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.schemas.evaluation import GateCheckInfo
from shipyard.store.metadata import evaluation_tables as vt
from shipyard.store.metadata import tables as t


def gate_checks_of(session: Session, model: str, version: t.ModelVersion) -> list[GateCheckInfo]:
    """The newest decision per stage about a version, for describing it."""
    rows = session.scalars(
        sa.select(vt.GateCheck)
        .where(vt.GateCheck.model_version_id == version.id)
        .order_by(vt.GateCheck.id.desc())
    )
    newest: dict[str, GateCheckInfo] = {}
    for row in rows:
        if row.stage not in newest:
            newest[row.stage] = GateCheckInfo.model_validate(
                {
                    "model": model,
                    "version": version.version,
                    "stage": row.stage,
                    "passed": row.passed,
                    "reason": row.reason,
                    "evaluation_id": row.evaluation_id,
                    "checked_by": row.checked_by,
                    "checked_at": row.checked_at,
                }
            )
    return list(newest.values())
