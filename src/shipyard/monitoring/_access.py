"""What a monitor reads, as policies see it: its endpoint's capture and feedback, each
variant's model version, and each baseline dataset version (given, or from lineage).

Declared when the monitor is created and again whenever it is run or read, resolved from
the endpoint's variants at that moment, so losing a right stops the monitor too.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.datasets import dataset_ref_resource, dataset_resource
from shipyard.errors import NotFound
from shipyard.monitoring._baseline import training_data
from shipyard.names import resource
from shipyard.security import Access, ResourceName
from shipyard.store.metadata import endpoint_tables as et
from shipyard.store.metadata import monitor_tables as mt
from shipyard.store.metadata import tables as t

READ_CAPTURE = "endpoints:ReadCapture"


def monitor_resource(name: str) -> str:
    return resource("monitor", name)


def reads(session: Session, endpoint: str, baseline: str | None) -> list[Access]:
    """Reading ``endpoint``'s capture and feedback, each variant's model version, and the
    baseline (or each version's training data)."""
    accesses = [Access(READ_CAPTURE, ResourceName(resource("endpoint", endpoint)))]
    if baseline is not None:
        accesses.append(
            Access("datasets:ReadData", dataset_ref_resource(session, baseline, field="baseline"))
        )
    row = session.scalar(sa.select(t.Endpoint).where(t.Endpoint.name == endpoint))
    if row is None:
        return accesses
    variants = session.scalars(
        sa.select(et.EndpointVariant)
        .where(et.EndpointVariant.endpoint_id == row.id)
        .order_by(et.EndpointVariant.role, et.EndpointVariant.name)
    )
    for variant in variants:
        version = session.get_one(t.ModelVersion, variant.model_version_id)
        model = session.get_one(t.Model, version.model_id)
        accesses.append(
            Access(
                "registry:GetModelVersion",
                ResourceName.versioned("model", model.name, version.version),
            )
        )
        if baseline is None:
            data = training_data(session, version)
            if data is not None:
                name = session.get_one(t.Dataset, data.dataset_id).name
                accesses.append(
                    Access("datasets:ReadData", dataset_resource(session, name, data.version))
                )
    return list(dict.fromkeys(accesses))


def find_monitor(session: Session, name: str) -> mt.Monitor:
    row = session.scalar(sa.select(mt.Monitor).where(mt.Monitor.name == name))
    if row is None:
        raise NotFound(f"monitor {name!r} does not exist", field="name")
    return row


def monitor_reads(session: Session, name: str) -> list[Access]:
    """What running or reading the monitor ``name`` reads (nothing when it does not exist:
    the call then answers NotFound)."""
    row = session.scalar(sa.select(mt.Monitor).where(mt.Monitor.name == name))
    if row is None:
        return []
    return reads(session, row.endpoint, row.baseline)
