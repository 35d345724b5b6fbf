"""Dataset lineage through transforms: which versions and transforms a version came from.

The registry's lineage covers dataset -> run -> model; this walks the other edges,
dataset versions -> transform version -> dataset version, as far as they go.
"""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.datasets import dataset_ref_resource, find_version
from shipyard.errors import InvalidInput
from shipyard.names import parse_reference
from shipyard.schemas.transforms import DatasetLineage, LineageNode
from shipyard.security import RequestContext, ResourceName, operation
from shipyard.store.metadata import tables as t
from shipyard.store.metadata import transform_tables as tt

Direction = Literal["upstream", "downstream"]
MAX_DEPTH = 50


class _Graph:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.nodes: dict[str, LineageNode] = {}
        self.edges: set[tuple[str, str]] = set()

    def dataset(self, version_id: int) -> str:
        name, version = self.session.execute(
            sa.select(t.Dataset.name, t.DatasetVersion.version)
            .join(t.Dataset, t.Dataset.id == t.DatasetVersion.dataset_id)
            .where(t.DatasetVersion.id == version_id)
        ).one()
        node = f"dataset:{name}@{version}"
        self.nodes[node] = LineageNode(id=node, kind="dataset", label=f"{name}@{version}")
        return node

    def transform(self, transform_version_id: int) -> str:
        name, version = self.session.execute(
            sa.select(tt.Transform.name, tt.TransformVersion.version)
            .join(tt.Transform, tt.Transform.id == tt.TransformVersion.transform_id)
            .where(tt.TransformVersion.id == transform_version_id)
        ).one()
        node = f"transform:{name}@{version}"
        self.nodes[node] = LineageNode(id=node, kind="transform", label=f"{name}@{version}")
        return node

    def walk(self, start: int, direction: Direction) -> None:
        frontier, seen = [start], {start}
        for _ in range(MAX_DEPTH):
            following: list[int] = []
            for version_id in frontier:
                following.extend(
                    self._upstream(version_id)
                    if direction == "upstream"
                    else self._downstream(version_id)
                )
            frontier = [v for v in dict.fromkeys(following) if v not in seen]
            seen.update(frontier)
            if not frontier:
                return

    def _upstream(self, version_id: int) -> list[int]:
        target = self.dataset(version_id)
        found = []
        runs = self.session.scalars(
            sa.select(tt.TransformRun).where(
                tt.TransformRun.output_dataset_version_id == version_id
            )
        )
        for run in runs:
            step = self.transform(run.transform_version_id)
            self.edges.add((step, target))
            for input_id in self.session.scalars(
                sa.select(tt.TransformRunInput.dataset_version_id).where(
                    tt.TransformRunInput.run_id == run.id
                )
            ):
                self.edges.add((self.dataset(input_id), step))
                found.append(input_id)
        return found

    def _downstream(self, version_id: int) -> list[int]:
        origin = self.dataset(version_id)
        found = []
        runs = self.session.scalars(
            sa.select(tt.TransformRun)
            .join(tt.TransformRunInput, tt.TransformRunInput.run_id == tt.TransformRun.id)
            .where(tt.TransformRunInput.dataset_version_id == version_id)
        )
        for run in runs:
            step = self.transform(run.transform_version_id)
            self.edges.add((origin, step))
            self.edges.add((step, self.dataset(run.output_dataset_version_id)))
            found.append(run.output_dataset_version_id)
        return found


def _lineage_resource(session: Session, ref: str) -> ResourceName:
    return dataset_ref_resource(session, ref, field="ref")


@operation("transforms:GetLineage", _lineage_resource, mutating=False)
def dataset_lineage(
    ctx: RequestContext, ref: str, direction: Direction = "upstream"
) -> DatasetLineage:
    """The transforms and dataset versions a version came from, or that were made from it."""
    parsed = parse_reference(ref)
    if parsed.alias is not None:
        raise InvalidInput("datasets have versions, not aliases", field="ref")
    with ctx.platform.db.session() as session:
        row = find_version(session, parsed.name, parsed.version)
        graph = _Graph(session)
        root = graph.dataset(row.id)
        graph.walk(row.id, direction)
        return DatasetLineage(
            root=root, nodes=list(graph.nodes.values()), edges=sorted(graph.edges)
        )
