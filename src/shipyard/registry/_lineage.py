"""Lineage queries: dataset version -> run -> model version, walked from either end.

A run that continued from a registered version (``init_model``) has that version
upstream too: parent model version -> run -> child model version.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.datasets import dataset_ref_resource, find_version
from shipyard.errors import InvalidInput, NotFound
from shipyard.names import Reference, parse_reference
from shipyard.registry._parents import parent_version_rows
from shipyard.registry._service import model_version_resource, resolve
from shipyard.schemas.registry import LineageGraph, LineageNode
from shipyard.security import RequestContext, ResourceName, operation
from shipyard.store.metadata import tables as t
from shipyard.store.metadata import tombstone_text
from shipyard.tracking import run_resource

Kind = Literal["dataset", "run", "model"]


class _Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, LineageNode] = {}
        self.edges: set[tuple[str, str]] = set()

    def dataset(self, session: Session, version_id: int) -> str:
        name, row = session.execute(
            sa.select(t.Dataset.name, t.DatasetVersion)
            .join(t.Dataset, t.Dataset.id == t.DatasetVersion.dataset_id)
            .where(t.DatasetVersion.id == version_id)
        ).one()
        node = f"dataset:{name}@{row.version}"
        self.nodes[node] = LineageNode(
            id=node, kind="dataset", label=f"{name}@{row.version}", deleted=_deleted(row)
        )
        return node

    def run(self, run: t.Run) -> str:
        node = f"run:{run.id}"
        purged = None if run.purged_at is None else f"purged {tombstone_text(run, 'purged')}"
        self.nodes[node] = LineageNode(id=node, kind="run", label=run.name, deleted=purged)
        return node

    def model(self, session: Session, row: t.ModelVersion) -> str:
        name = session.scalar(sa.select(t.Model.name).where(t.Model.id == row.model_id))
        node = f"model:{name}@{row.version}"
        self.nodes[node] = LineageNode(
            id=node, kind="model", label=f"{name}@{row.version}", deleted=_deleted(row)
        )
        return node

    def upstream_of_run(self, session: Session, run: t.Run) -> str:
        run_node = self.run(run)
        inputs = session.scalars(
            sa.select(t.RunInput.dataset_version_id).where(t.RunInput.run_id == run.id)
        )
        for version_id in inputs:
            self.edges.add((self.dataset(session, version_id), run_node))
        for parent in parent_version_rows(session, run.id):
            self.edges.add((self.model(session, parent), run_node))
        return run_node

    def downstream_of_run(self, session: Session, run: t.Run) -> str:
        run_node = self.run(run)
        for row in session.scalars(
            sa.select(t.ModelVersion).where(t.ModelVersion.run_id == run.id)
        ):
            self.edges.add((run_node, self.model(session, row)))
        return run_node

    def result(self, root: str) -> LineageGraph:
        return LineageGraph(root=root, nodes=list(self.nodes.values()), edges=sorted(self.edges))


def _tombstone(
    session: Session,
    parent: type[t.Dataset] | type[t.Model],
    table: type[t.DatasetVersion] | type[t.ModelVersion],
    ref: Reference,
) -> Any:
    """The deleted version ``ref`` names exactly (lineage still shows it), else None."""
    if ref.version is None:
        return None
    owner = table.dataset_id if table is t.DatasetVersion else table.model_id  # type: ignore[union-attr]
    return session.scalar(
        sa.select(table)
        .join(parent, parent.id == owner)
        .where(
            parent.name == ref.name,
            table.version == ref.version,
            table.deleted_at.is_not(None),
        )
    )


def _deleted(row: t.DatasetVersion | t.ModelVersion) -> str | None:
    return None if row.deleted_at is None else f"deleted {tombstone_text(row)}"


def _lineage_resource(session: Session, kind: str, ref: str) -> ResourceName:
    if kind == "run":
        return run_resource(session, ref)
    if kind == "model":
        return model_version_resource(session, ref)
    return dataset_ref_resource(session, ref, field="ref")


@operation("registry:GetLineage", _lineage_resource, mutating=False)
def lineage(ctx: RequestContext, kind: Kind, ref: str) -> LineageGraph:
    """Everything a model version came from, or everything a dataset version or run led to."""
    graph = _Graph()
    with ctx.platform.db.session() as session:
        if kind == "model":
            parsed = parse_reference(ref)
            row = (
                _tombstone(session, t.Model, t.ModelVersion, parsed) or resolve(session, parsed)[1]
            )
            root = graph.model(session, row)
            run = session.get(t.Run, row.run_id)
            if run is not None:
                graph.edges.add((graph.upstream_of_run(session, run), root))
            return graph.result(root)
        if kind == "dataset":
            parsed = parse_reference(ref)
            if parsed.alias is not None:
                raise InvalidInput("datasets have versions, not aliases", field="ref")
            version = _tombstone(session, t.Dataset, t.DatasetVersion, parsed) or find_version(
                session, parsed.name, parsed.version
            )
            root = graph.dataset(session, version.id)
            runs = session.scalars(
                sa.select(t.Run)
                .join(t.RunInput, t.RunInput.run_id == t.Run.id)
                .where(t.RunInput.dataset_version_id == version.id)
            )
            for run in runs:
                graph.edges.add((root, graph.downstream_of_run(session, run)))
            return graph.result(root)
        run = session.get(t.Run, ref)
        if run is None:
            raise NotFound(f"run {ref!r} does not exist", field="ref")
        graph.upstream_of_run(session, run)
        return graph.result(graph.downstream_of_run(session, run))
