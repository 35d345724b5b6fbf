"""Streams: versioned specs, their commits and rejections, and the consumer."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.errors import InvalidInput, NotFound
from shipyard.names import check_name, resource
from shipyard.schemas.streams import (
    DEFAULT_DEDUPE_SECONDS,
    ConsumeSummary,
    NatsSource,
    RedisSource,
    RejectedRecord,
    StreamCommitInfo,
    StreamInfo,
    StreamSpec,
    redact_url,
)
from shipyard.security import Access, RequestContext, operation
from shipyard.store.metadata import STREAMS, add_version, find_versioned
from shipyard.store.metadata import stream_tables as st
from shipyard.streams._allowlist import source_url_problem
from shipyard.streams._brokers import (
    default_consumer_name,
    open_source,
    with_defaults,
)
from shipyard.streams._commit import CommitResult, LoadedStream, commit_info
from shipyard.streams._consume import StreamConsumer
from shipyard.streams._online import online_sink
from shipyard.streams._source import StreamSource


def _digest(spec: StreamSpec) -> str:
    """The spec's content digest; a default dedupe window is left out, so specs stored
    before the window existed keep their digests (and are not versioned again)."""
    dumped = spec.model_dump(mode="json")
    if dumped.get("dedupe_window_seconds") == DEFAULT_DEDUPE_SECONDS:
        del dumped["dedupe_window_seconds"]
    if dumped.get("dedupe_window_records") is None:
        dumped.pop("dedupe_window_records", None)
    canonical = orjson.dumps(dumped, option=orjson.OPT_SORT_KEYS)
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


def _public(spec: StreamSpec) -> StreamSpec:
    source = spec.source
    if isinstance(source, RedisSource | NatsSource):
        return spec.model_copy(
            update={"source": source.model_copy(update={"url": redact_url(source.url)})}
        )
    return spec


def _info(stream: st.Stream, version: st.StreamVersion, *, created: bool = False) -> StreamInfo:
    return StreamInfo(
        name=stream.name,
        version=version.version,
        spec=_public(StreamSpec.model_validate(version.spec)),
        digest=version.digest,
        commits=stream.commits,
        committed_records=stream.committed_records,
        rejected_records=stream.rejected_records,
        duplicate_records=stream.duplicate_records,
        last_commit_at=stream.last_commit_at,
        created_by=version.created_by,
        created_at=version.created_at,
        created=created,
    )


def _find(session: Session, name: str, version: int | None) -> tuple[st.Stream, st.StreamVersion]:
    return find_versioned(session, STREAMS, name, version, field="stream")


def load_stream(session: Session, name: str, version: int | None = None) -> LoadedStream:
    """A stream's id and spec (its latest version unless one is named)."""
    stream, row = _find(session, name, version)
    return LoadedStream(stream.id, row.version, StreamSpec.model_validate(row.spec))


def _lands_in(spec: StreamSpec) -> list[Access]:
    """A stream writes its dataset and, when it has one, its online view."""
    found = [Access("datasets:Ingest", resource("dataset", spec.dataset or spec.name))]
    if spec.online_view is not None:
        found.append(Access("features:Materialize", resource("feature-view", spec.online_view)))
    return found


def _consume_uses(session: Session, name: str) -> list[Access]:
    try:
        return _lands_in(load_stream(session, name).spec)
    except NotFound:
        return []


@operation(
    "streams:CreateStream",
    lambda spec: resource("stream", spec.name),
    uses=_lands_in,
    mutating=True,
)
def create_stream(ctx: RequestContext, spec: StreamSpec) -> StreamInfo:
    """Create a stream, or a new version of its spec; an unchanged spec keeps its version."""
    check_name(spec.name, field="spec.name")
    spec = with_defaults(spec)
    check_name(spec.dataset, field="spec.dataset")
    if spec.online_view is not None:
        check_name(spec.online_view, field="spec.online_view")
    problem = source_url_problem(ctx.platform.settings, spec.source)
    if problem is not None:
        raise InvalidInput(problem, field="spec.source.url")
    digest = _digest(spec)
    with ctx.platform.db.session() as session:
        row, created = add_version(
            session,
            STREAMS,
            spec.name,
            reuse_digest=digest,
            spec=spec.model_dump(mode="json"),
            created_by=ctx.principal,
        )
        stream = session.get_one(st.Stream, row.stream_id)
        return _info(stream, row, created=created)


@operation("streams:ListStreams", lambda: resource("stream"), mutating=False)
def list_streams(ctx: RequestContext) -> list[StreamInfo]:
    """Every stream at its latest spec version."""
    latest = (
        sa.select(st.StreamVersion.stream_id, sa.func.max(st.StreamVersion.version).label("v"))
        .group_by(st.StreamVersion.stream_id)
        .subquery()
    )
    query = (
        sa.select(st.Stream, st.StreamVersion)
        .join(latest, latest.c.stream_id == st.Stream.id)
        .join(
            st.StreamVersion,
            sa.and_(
                st.StreamVersion.stream_id == st.Stream.id,
                st.StreamVersion.version == latest.c.v,
            ),
        )
        .order_by(st.Stream.name)
    )
    with ctx.platform.db.session() as session:
        return [_info(stream, version) for stream, version in session.execute(query)]


@operation(
    "streams:GetStream", lambda name, version: resource("stream", name, version), mutating=False
)
def get_stream(ctx: RequestContext, name: str, version: int | None = None) -> StreamInfo:
    """One version of a stream's spec (the latest when none is given) and its counters."""
    with ctx.platform.db.session() as session:
        return _info(*_find(session, name, version))


@operation("streams:ListStreamCommits", lambda name: resource("stream", name), mutating=False)
def list_commits(
    ctx: RequestContext, name: str, after_seq: int = 0, limit: int = 100
) -> list[StreamCommitInfo]:
    """The stream's commits in order, starting after commit ``after_seq``."""
    if not 1 <= limit <= 10_000:
        raise InvalidInput("must be between 1 and 10000", field="limit")
    with ctx.platform.db.session() as session:
        stream, _ = _find(session, name, None)
        rows = session.scalars(
            sa.select(st.StreamPartition)
            .where(st.StreamPartition.stream_id == stream.id, st.StreamPartition.seq > after_seq)
            .order_by(st.StreamPartition.seq)
            .limit(limit)
        )
        return [commit_info(name, row) for row in rows]


@operation("streams:ListStreamRejections", lambda name: resource("stream", name), mutating=False)
def list_rejections(ctx: RequestContext, name: str, limit: int = 100) -> list[RejectedRecord]:
    """The most recent records the stream refused, newest first, with their reasons."""
    if not 1 <= limit <= 10_000:
        raise InvalidInput("must be between 1 and 10000", field="limit")
    with ctx.platform.db.session() as session:
        stream, _ = _find(session, name, None)
        rows = session.scalars(
            sa.select(st.StreamRejection)
            .where(st.StreamRejection.stream_id == stream.id)
            .order_by(st.StreamRejection.id.desc())
            .limit(limit)
        )
        return [
            RejectedRecord(
                source=r.source,
                offset=r.offset,
                reason=r.reason,
                excerpt=r.excerpt,
                created_at=r.created_at,
            )
            for r in rows
        ]


@operation(
    "streams:Consume", lambda name: resource("stream", name), uses=_consume_uses, mutating=True
)
def consume(
    ctx: RequestContext,
    name: str,
    *,
    consumer: str | None = None,
    stop: threading.Event | None = None,
    idle_exit: float | None = None,
    max_records: int | None = None,
    on_commit: Callable[[CommitResult], None] | None = None,
    source: StreamSource | None = None,
) -> ConsumeSummary:
    """Run a consumer of the stream in this process until ``stop`` is set or it idles.

    ``source`` replaces the broker the spec names (a test double, or a Kafka source).
    """
    with ctx.platform.db.session() as session:
        stream = load_stream(session, name)
    spec = stream.spec
    online = online_sink(ctx, spec, spec.online_view) if spec.online_view else None
    if source is None:
        source = open_source(ctx.platform, stream, consumer or default_consumer_name(name))
    with source:
        runner = StreamConsumer(
            ctx.platform,
            stream,
            source,
            principal=ctx.principal,
            online=online,
            on_commit=on_commit,
        )
        return runner.run(stop, idle_exit=idle_exit, max_records=max_records)
