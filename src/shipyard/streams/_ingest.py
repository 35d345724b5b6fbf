"""The ingest endpoint: validate a batch record by record, append the valid ones to the broker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from shipyard.clock import utcnow
from shipyard.errors import InvalidInput
from shipyard.names import resource
from shipyard.schemas.streams import PutRecordsResult, Rejection
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import stream_tables as st
from shipyard.streams._brokers import open_producer
from shipyard.streams._buffer import RejectedMessage, excerpt
from shipyard.streams._commit import LoadedStream, store_rejections
from shipyard.streams._records import RecordSchema
from shipyard.streams._service import load_stream

MAX_BATCH_RECORDS = 10_000
_STORED_HTTP_REJECTIONS = 100


@dataclass(frozen=True)
class _Item:
    """One record of a batch as the caller numbered it; ``problem`` when it did not parse."""

    index: int
    record: Any
    raw: bytes | None = None
    problem: str | None = None

    def body(self) -> bytes:
        return self.raw if self.raw is not None else orjson.dumps(self.record)


def _put(
    ctx: RequestContext, name: str, items: list[_Item], partition_key: str | None
) -> PutRecordsResult:
    if len(items) > MAX_BATCH_RECORDS:
        raise InvalidInput(f"at most {MAX_BATCH_RECORDS} records per call", field="records")
    if partition_key is not None and not 0 < len(partition_key) <= 200:
        raise InvalidInput("must be 1 to 200 characters", field="partition_key")
    with ctx.platform.db.session() as session:
        stream = load_stream(session, name)
    schema = RecordSchema(stream.spec)
    parsed = [item for item in items if item.problem is None]
    _, reasons = schema.check_many([item.record for item in parsed])
    refused = [(item, item.problem) for item in items if item.problem is not None]
    refused += [(parsed[index], reason) for index, reason in reasons.items()]
    refused.sort(key=lambda pair: pair[0].index)
    accepted = [
        (partition_key if partition_key is not None else schema.key_of(item.record), item.body())
        for index, item in enumerate(parsed)
        if index not in reasons
    ]
    offsets: list[str] = []
    if accepted:
        with open_producer(ctx.platform, stream) as producer:
            offsets = producer.publish(accepted)
    if refused:
        _count_rejections(ctx, stream, refused)
    return PutRecordsResult(
        stream=name,
        accepted=len(accepted),
        rejected=len(refused),
        rejections=[Rejection(index=item.index, reason=reason) for item, reason in refused],
        offsets=offsets,
    )


def _count_rejections(
    ctx: RequestContext, stream: LoadedStream, refused: list[tuple[_Item, str]]
) -> None:
    kept = [
        RejectedMessage("http", f"{ctx.request_id}/{item.index}", reason, excerpt(item.body()))
        for item, reason in refused[:_STORED_HTTP_REJECTIONS]
    ]
    with ctx.platform.db.session() as session:
        store_rejections(session, stream.stream_id, kept, utcnow())
        session.execute(
            sa.update(st.Stream)
            .where(st.Stream.id == stream.stream_id)
            .values(rejected_records=st.Stream.rejected_records + len(refused))
        )


@operation("streams:PutRecords", lambda name: resource("stream", name), mutating=True)
def put_records(
    ctx: RequestContext, name: str, records: list[Any], partition_key: str | None = None
) -> PutRecordsResult:
    """Validate a batch of JSON records and append the valid ones to the stream.

    Each invalid record is refused with its index and reason; it never blocks the others.
    """
    return _put(ctx, name, [_Item(i, r) for i, r in enumerate(records)], partition_key)


@operation("streams:PutRecords", lambda name: resource("stream", name), mutating=True)
def put_ndjson(
    ctx: RequestContext, name: str, content: bytes, partition_key: str | None = None
) -> PutRecordsResult:
    """Like ``put_records`` for newline-delimited JSON; indices are 0-based line numbers."""
    limit = ctx.platform.settings.max_body_bytes
    if len(content) > limit:
        raise InvalidInput(f"larger than the limit of {limit} bytes", field="content")
    items: list[_Item] = []
    for index, line in enumerate(content.split(b"\n")):
        line = line.strip()
        if not line:
            continue
        try:
            items.append(_Item(index, orjson.loads(line), line))
        except orjson.JSONDecodeError as error:
            items.append(_Item(index, None, line, f"broken JSON: {error}"))
    return _put(ctx, name, items, partition_key)
