"""After each commit, a stream can push its new rows' latest feature values to the online store.

The rows go through the feature store's own materialization (latest value per entity,
keys encoded as ``get_online_features`` reads them); the online store keeps a value only
if its event time is the same or newer, so records arriving out of order are harmless.
The feature store (and DuckDB with it) is imported only when a stream uses it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import pyarrow as pa

from shipyard.errors import InvalidInput
from shipyard.schemas.streams import StreamSpec
from shipyard.security import RequestContext

_END = datetime(9999, 12, 31, tzinfo=UTC)


class OnlineSink(Protocol):
    """Receives each commit's new rows, after they are committed and acknowledged."""

    def write(self, table: pa.Table) -> None: ...


class FeatureViewSink:
    """Writes the latest values per entity of a feature view over the stream's dataset."""

    def __init__(self, ctx: RequestContext, stream: StreamSpec, view: str) -> None:
        from shipyard.features._views import find_view, spec_of
        from shipyard.features.online import online_store_url

        with ctx.platform.db.session() as session:
            _, row = find_view(session, view)
            self.spec = spec_of(row)
        self.view = view
        source, _ = self.spec.source_ref
        if source != stream.dataset:
            raise InvalidInput(
                f"feature view {view!r} reads dataset {source!r}, "
                f"but stream {stream.name!r} writes {stream.dataset!r}",
                field="online_view",
            )
        needed = [*self.spec.entities, self.spec.event_time, *self.spec.features]
        missing = [c for c in needed if c not in stream.fields]
        if missing:
            raise InvalidInput(
                f"feature view {view!r} needs column {missing[0]!r}, "
                f"which stream {stream.name!r} does not carry",
                field="online_view",
            )
        self.url = online_store_url(ctx.platform.settings)

    def write(self, table: pa.Table) -> None:
        from shipyard.features._materialize import latest_per_entity
        from shipyard.features.online import open_online_store

        batch = latest_per_entity(table, self.spec, None, _END)
        with open_online_store(self.url) as store:
            store.write(self.view, batch)


def online_sink(ctx: RequestContext, stream: StreamSpec, view: str) -> OnlineSink:
    """The online-store writer for feature view ``view``, checked against the stream."""
    return FeatureViewSink(ctx, stream, view)
