"""The data plane's link to the metadata and blob stores: snapshots in, stats and records out.

Reads the endpoint's variants and live settings (``endpoint_variants``,
``endpoint_states``) and, through an ``EnricherLoader``, its feature binding;
writes heartbeats (``endpoint_instances``), window counts (``variant_stats``),
capture files (Parquet blobs listed in ``capture_files``), feedback labels and audit events.
Only the worker's background thread calls it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.errors import NotFound
from shipyard.platform import Platform
from shipyard.security import record_events
from shipyard.serving._audit import AuditRecord
from shipyard.serving._capture import capture_schema, hour_of, parquet_bytes
from shipyard.serving._config import PRIMARY, EndpointConfig
from shipyard.serving._control import WorkerStatus
from shipyard.serving._enrich import EnricherLoader
from shipyard.serving._snapshot import (
    EndpointSnapshot,
    PredictorLoader,
    VariantSpec,
    build_config,
)
from shipyard.serving._stats import WindowRow
from shipyard.serving._usage import UsageSample
from shipyard.store.metadata import cost_tables as ct
from shipyard.store.metadata import endpoint_tables as et
from shipyard.store.metadata import tables as t

if TYPE_CHECKING:
    import pyarrow as pa

    from shipyard.schemas.features import EndpointFeatures

_CHUNK = 500


class DatabaseLink:
    """One endpoint's rows, as one serving worker reads and writes them."""

    def __init__(
        self,
        platform: Platform,
        endpoint: str,
        load_predictor: PredictorLoader,
        *,
        url: str = "",
        in_thread: bool = False,
        enrichers: EnricherLoader | None = None,
    ) -> None:
        self.platform = platform
        self.endpoint = endpoint
        self.url = url
        self._load_predictor = load_predictor
        self._in_thread = in_thread
        self._enrichers = enrichers
        self._endpoint_id: int | None = None

    def generation(self) -> int | None:
        if self._endpoint_id is None:
            return None
        with self.platform.db.session() as session:
            return endpoint_generation(session, self._endpoint_id)

    def load(self, current: EndpointConfig | None) -> EndpointConfig:
        """Read the endpoint now; load models for new (version, runtime) pairs, reuse the rest."""
        with self.platform.db.session() as session:
            self._endpoint_id, snapshot = read_snapshot(
                session,
                self.endpoint,
                None if self._enrichers is None else self._enrichers.binding,
            )
        return build_config(
            snapshot,
            current,
            self._load_predictor,
            in_thread=self._in_thread,
            enrichers=self._enrichers,
        )

    def report(self, status: WorkerStatus, rows: list[WindowRow]) -> None:
        now = status.heartbeat_at
        with self.platform.db.session() as session:
            _upsert(
                session,
                et.EndpointInstance,
                {"endpoint": self.endpoint, "worker": status.worker},
                {
                    "generation": status.generation,
                    "variants": status.variants,
                    "failed_generation": status.failed_generation,
                    "error": status.error,
                    "url": self.url,
                    "started_at": status.started_at,
                    "heartbeat_at": now,
                },
            )
            for row in rows:
                totals = row.totals
                _upsert(
                    session,
                    et.VariantStats,
                    {
                        "endpoint": self.endpoint,
                        "variant": row.variant,
                        "worker": status.worker,
                        "window_start": row.window_start,
                    },
                    {
                        "requests": totals.requests,
                        "errors": totals.errors,
                        "latency_sum_ms": totals.latency_sum_ms,
                        "latency_buckets": row.latency_document(),
                        "shadow_agreements": totals.shadow_agreements,
                        "shadow_comparisons": totals.shadow_comparisons,
                        "updated_at": now,
                    },
                )

    def write_feedback(self, labels: dict[str, Any]) -> None:
        """Store labels by request id; a label posted again replaces the earlier one."""
        table = et.Feedback
        ids = list(labels)
        with self.platform.db.session() as session:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                existing = set(
                    session.scalars(
                        sa.select(table.request_id).where(
                            table.endpoint == self.endpoint, table.request_id.in_(chunk)
                        )
                    )
                )
                now = utcnow()
                for request_id in existing:
                    session.execute(
                        sa.update(table)
                        .where(table.endpoint == self.endpoint, table.request_id == request_id)
                        .values(label=labels[request_id], received_at=now)
                    )
                fresh = [
                    {
                        "endpoint": self.endpoint,
                        "request_id": r,
                        "label": labels[r],
                        "received_at": now,
                    }
                    for r in chunk
                    if r not in existing
                ]
                if fresh:
                    session.execute(sa.insert(table), fresh)

    def write_audit(self, records: list[AuditRecord]) -> None:
        """Append data-plane events (denials, feedback writes) to the audit trail."""
        record_events(
            self.platform.db,
            (
                {
                    "principal": r.principal,
                    "action": r.action,
                    "resource": r.resource,
                    "outcome": r.outcome,
                    "request_id": r.request_id,
                    "detail": r.detail,
                    "time": r.time,
                }
                for r in records
            ),
        )

    def write_capture(self, hour: str, table: pa.Table) -> None:
        """One Parquet blob per call, listed under its hour."""
        digest = self.platform.blobs.put_bytes(parquet_bytes(table))
        with self.platform.db.session() as session:
            session.add(
                et.CaptureFile(
                    endpoint=self.endpoint, hour=hour, digest=digest, rows=table.num_rows
                )
            )

    def write_usage(self, worker: str, sample: UsageSample) -> None:
        with self.platform.db.session() as session:
            session.add(
                ct.EndpointUsageSample(
                    endpoint=self.endpoint,
                    worker=worker[:100],
                    time=datetime.fromtimestamp(sample.time, UTC),
                    interval_seconds=sample.interval_seconds,
                    cpu_seconds=sample.cpu_seconds,
                    memory_mb=sample.memory_mb,
                )
            )

    def leave(self, worker: str) -> None:
        """Remove the heartbeat and release the online store (the worker is stopping)."""
        try:
            with self.platform.db.session() as session:
                session.execute(
                    sa.delete(et.EndpointInstance).where(
                        et.EndpointInstance.endpoint == self.endpoint,
                        et.EndpointInstance.worker == worker,
                    )
                )
        finally:
            if self._enrichers is not None:
                self._enrichers.close()


BindingReader = Callable[[Session, str], "EndpointFeatures | None"]


def read_snapshot(
    session: Session, endpoint: str, read_binding: BindingReader | None = None
) -> tuple[int, EndpointSnapshot]:
    """The endpoint's id and its snapshot now (NotFound when it does not exist)."""
    row = session.scalar(sa.select(t.Endpoint).where(t.Endpoint.name == endpoint))
    if row is None:
        raise NotFound(f"endpoint {endpoint!r} does not exist", field="endpoint")
    state = session.get(et.EndpointState, row.id)
    specs = _variant_specs(session, row)
    names = _version_names(session, [spec["model_version_id"] for spec in specs])
    variants = tuple(
        VariantSpec(
            **spec,
            model_name=names[spec["model_version_id"]][0],
            model_version=names[spec["model_version_id"]][1],
        )
        for spec in specs
    )
    return row.id, EndpointSnapshot(
        generation=state.generation if state is not None else 0,
        variants=variants,
        capture=dict(state.capture) if state is not None else {},
        batching=dict(state.batching) if state is not None else {},
        features=None if read_binding is None else read_binding(session, endpoint),
    )


def endpoint_generation(session: Session, endpoint_id: int) -> int | None:
    """The generation of the endpoint with ``endpoint_id``; None when it no longer exists."""
    found = session.scalar(
        sa.select(et.EndpointState.generation).where(et.EndpointState.endpoint_id == endpoint_id)
    )
    return None if found is None else int(found)


def _variant_specs(session: Session, endpoint: t.Endpoint) -> list[dict[str, Any]]:
    """Production variants first, then shadows; a lone "primary" for endpoints without rows."""
    rows = session.scalars(
        sa.select(et.EndpointVariant)
        .where(et.EndpointVariant.endpoint_id == endpoint.id)
        .order_by(et.EndpointVariant.role, et.EndpointVariant.name)
    ).all()
    if not rows:
        return [
            {
                "name": PRIMARY,
                "model_version_id": endpoint.model_version_id,
                "weight": 1.0,
                "role": "production",
                "shadow_percent": 0.0,
                "runtime": "native",
            }
        ]
    return [
        {
            "name": v.name,
            "model_version_id": v.model_version_id,
            "weight": v.weight,
            "role": v.role,
            "shadow_percent": v.shadow_percent,
            "runtime": v.runtime,
        }
        for v in rows
    ]


def _version_names(session: Session, version_ids: list[int]) -> dict[int, tuple[str, int]]:
    rows = session.execute(
        sa.select(t.ModelVersion.id, t.Model.name, t.ModelVersion.version)
        .join(t.Model, t.Model.id == t.ModelVersion.model_id)
        .where(t.ModelVersion.id.in_(set(version_ids)))
    )
    return {vid: (name, version) for vid, name, version in rows}


def _upsert(session: Session, table: Any, key: dict[str, Any], values: dict[str, Any]) -> None:
    """Update the row with ``key`` or insert it; only one writer ever owns such a row."""
    where = [getattr(table, column) == value for column, value in key.items()]
    result = session.execute(
        sa.update(table).where(*where).values(**values).execution_options(synchronize_session=False)
    )
    if cast("sa.CursorResult[Any]", result).rowcount == 0:
        session.execute(sa.insert(table).values(**key, **values))


def read_captures(
    platform: Platform, endpoint: str, since: datetime | float | None = None
) -> pa.Table:
    """Every captured record of ``endpoint`` (from ``since`` on), oldest file first."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    start: datetime | None
    if since is None or isinstance(since, datetime):
        start = since
    else:
        start = datetime.fromtimestamp(since, UTC)
    if start is not None and start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    query = sa.select(et.CaptureFile.digest).where(et.CaptureFile.endpoint == endpoint)
    if start is not None:
        query = query.where(et.CaptureFile.hour >= hour_of(start.timestamp()))
    with platform.db.session() as session:
        digests = list(session.scalars(query.order_by(et.CaptureFile.hour, et.CaptureFile.id)))
    schema = capture_schema()
    tables = [pq.read_table(io.BytesIO(platform.blobs.get_bytes(d))).cast(schema) for d in digests]
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    if start is not None:
        table = table.filter(
            pc.greater_equal(table["time"], pa.scalar(start, schema.field("time").type))
        )
    return table
