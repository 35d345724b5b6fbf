"""Pipelines for the scheduler: a pipeline's ``schedule`` (every 1h...) and its dataset
triggers.

Dataset triggers are polled, not hooked into ingestion: each pipeline with triggers gets
a schedule ``<pipeline>#datasets`` every ``DATASET_POLL``; a window starts one run per new
version (newest only) of each watched dataset since the last one that started a run, the
last seen version recorded with a compare-and-set so two schedulers never start it twice.
Runs act as the principal that defined the pipeline (its current version).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from shipyard.scheduling import Due, Schedule

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shipyard.platform import Platform

DATASET_POLL = timedelta(seconds=30)
_DATASETS = "#datasets"


class PipelineSchedules:
    kind = "pipeline"

    def schedules(self, session: Session) -> list[Schedule]:
        from shipyard.schemas.durations import parse_duration
        from shipyard.store.metadata import pipeline_tables as pt

        found = []
        for row in session.scalars(sa.select(pt.Pipeline).order_by(pt.Pipeline.name)):
            every, triggers = row.spec.get("schedule"), row.spec.get("triggers") or []
            if isinstance(every, str):
                seconds = parse_duration(every, field="schedule")
                found.append(
                    Schedule(
                        "pipeline",
                        row.name,
                        timedelta(seconds=seconds),
                        row.created_at,
                        row.created_by,
                    )
                )
            if triggers:
                found.append(
                    Schedule(
                        "pipeline",
                        row.name + _DATASETS,
                        DATASET_POLL,
                        row.created_at,
                        row.created_by,
                    )
                )
        return found

    def run(self, platform: Platform, due: Due) -> None:
        from shipyard.pipelines._trigger import start_run
        from shipyard.store.metadata import pipeline_tables as pt

        target = due.schedule.target
        name = target.removesuffix(_DATASETS)
        with platform.db.session() as session:
            row = session.scalar(sa.select(pt.Pipeline).where(pt.Pipeline.name == name))
            if row is None:
                return
            principal = row.created_by
        if not target.endswith(_DATASETS):
            start_run(platform, principal, name, {}, "schedule")
            return
        for dataset, version, parameter in _new_versions(platform, name):
            parameters = {parameter: f"{dataset}@{version}"} if parameter else {}
            start_run(platform, principal, name, parameters, f"dataset:{dataset}@{version}")


def _new_versions(platform: Platform, name: str) -> list[tuple[str, int, str | None]]:
    """Each watched dataset's newest version, when newer than the last that started a run;
    claimed here (the pipeline's row locked while ``watched`` is read and moved on; the
    scheduler runs each window once)."""
    from shipyard.store.metadata import pipeline_tables as pt
    from shipyard.store.metadata import tables as t

    found = []
    with platform.db.session() as session:
        row = session.scalar(
            sa.select(pt.Pipeline).where(pt.Pipeline.name == name).with_for_update()
        )
        if row is None:
            return []
        seen = dict(row.watched or {})
        updated = dict(seen)
        for trigger in row.spec.get("triggers") or []:
            dataset = str(trigger["dataset"])
            latest = session.scalar(
                sa.select(sa.func.max(t.DatasetVersion.version))
                .join(t.Dataset, t.Dataset.id == t.DatasetVersion.dataset_id)
                .where(t.Dataset.name == dataset)
            )
            if latest is not None and latest > int(seen.get(dataset, 0)):
                updated[dataset] = int(latest)
                found.append((dataset, int(latest), trigger.get("parameter")))
        row.watched = updated
    return found


SOURCE = PipelineSchedules()
