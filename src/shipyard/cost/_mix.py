"""The requests a load test replays: the endpoint's captured request mix, or (no capture)
single-row requests from the training data of the model version it serves."""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.errors import Conflict, NotFound
from shipyard.platform import Platform
from shipyard.security import Access, ResourceName
from shipyard.store.metadata import endpoint_tables as et
from shipyard.store.metadata import tables as t

MAX_REQUESTS = 1000


def _endpoint(session: Session, name: str) -> t.Endpoint:
    row = session.scalar(sa.select(t.Endpoint).where(t.Endpoint.name == name))
    if row is None:
        raise NotFound(f"endpoint {name!r} does not exist", field="name")
    return row


def served_versions(session: Session, endpoint: t.Endpoint) -> list[t.ModelVersion]:
    """The model versions the endpoint serves (variants, shadows), the primary first."""
    ids = list(
        session.scalars(
            sa.select(et.EndpointVariant.model_version_id)
            .where(et.EndpointVariant.endpoint_id == endpoint.id)
            .order_by(et.EndpointVariant.role, et.EndpointVariant.name)
        )
    ) or [endpoint.model_version_id]
    rows = {
        v.id: v
        for v in session.scalars(sa.select(t.ModelVersion).where(t.ModelVersion.id.in_(ids)))
    }
    return [rows[i] for i in dict.fromkeys(ids) if i in rows]


def has_capture(session: Session, name: str) -> bool:
    found = session.scalar(
        sa.select(et.CaptureFile.id).where(et.CaptureFile.endpoint == name).limit(1)
    )
    return found is not None


def training_versions(session: Session, version: t.ModelVersion) -> list[t.DatasetVersion]:
    """The dataset versions the run that made ``version`` read (its lineage)."""
    return list(
        session.scalars(
            sa.select(t.DatasetVersion)
            .join(t.RunInput, t.RunInput.dataset_version_id == t.DatasetVersion.id)
            .where(t.RunInput.run_id == version.run_id)
            .order_by(t.DatasetVersion.id)
        )
    )


def mix_accesses(session: Session, name: str) -> list[Access]:
    """Serving every version the endpoint serves; reading its capture, or (none) the
    training data of the version it serves first."""
    endpoint = session.scalar(sa.select(t.Endpoint).where(t.Endpoint.name == name))
    if endpoint is None:
        return []
    versions = served_versions(session, endpoint)
    models = dict(session.execute(sa.select(t.Model.id, t.Model.name)).all())
    found = [
        Access(
            "registry:GetModelVersion",
            ResourceName.versioned("model", models[v.model_id], v.version),
        )
        for v in versions
    ]
    if has_capture(session, name):
        found.append(Access("endpoints:ReadCapture", ResourceName.of(f"sy:endpoint/{name}")))
    elif versions:
        for data in training_versions(session, versions[0]):
            dataset = session.get(t.Dataset, data.dataset_id)
            assert dataset is not None
            found.append(
                Access(
                    "datasets:ReadData",
                    ResourceName.versioned("dataset", dataset.name, data.version),
                )
            )
    return found


def request_mix(platform: Platform, name: str) -> tuple[str, list[bytes]]:
    """(where the requests came from, the request bodies)."""
    from shipyard.serving import read_captures

    with platform.db.session() as session:
        endpoint = _endpoint(session, name)
        captured = has_capture(session, name)
        versions = served_versions(session, endpoint)
        data = training_versions(session, versions[0]) if versions and not captured else []
        signature = dict(versions[0].signature) if versions else {}
        labels = {}
        for row in data:
            dataset = session.get(t.Dataset, row.dataset_id)
            labels[row.id] = f"{dataset.name}@{row.version}" if dataset else str(row.id)
    if captured:
        inputs = read_captures(platform, name).column("input").to_pylist()
        bodies = [
            orjson.dumps({"dataframe_split": orjson.loads(text)})
            for text in inputs[-MAX_REQUESTS:]
            if text
        ]
        if bodies:
            return "capture", bodies
    if not data:
        raise Conflict(
            f"endpoint {name!r} has no captured requests and its model version no training "
            "data in its lineage to replay",
            field="name",
        )
    from shipyard.datasets._versions import read_version_table

    table = read_version_table(platform, data[0])
    wanted = [c["name"] for c in signature.get("inputs", []) if c["name"] in table.column_names]
    columns = wanted or [c for c in table.column_names if c != signature.get("target")]
    rows = table.select(columns).slice(0, MAX_REQUESTS).to_pylist()
    bodies = [
        orjson.dumps({"dataframe_split": {"columns": columns, "data": [[r[c] for c in columns]]}})
        for r in rows
    ]
    return f"training data {labels[data[0].id]}", bodies
