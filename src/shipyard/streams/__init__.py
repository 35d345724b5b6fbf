"""Streaming ingestion: validated records from HTTP, Redis Streams or NATS JetStream,
committed as Parquet partitions every N records or T seconds, exactly once in effect."""

from shipyard.schemas.streams import (
    ConsumeSummary,
    FieldType,
    HttpSource,
    NatsSource,
    PutRecordsResult,
    RedisSource,
    RejectedRecord,
    Rejection,
    StreamCommitInfo,
    StreamInfo,
    StreamSpec,
)
from shipyard.streams._brokers import open_producer, open_source
from shipyard.streams._buffer import RecordBuffer
from shipyard.streams._commit import CommitResult, LoadedStream, commit_buffer
from shipyard.streams._consume import StreamConsumer
from shipyard.streams._dataset import read_committed
from shipyard.streams._ingest import MAX_BATCH_RECORDS, put_ndjson, put_records
from shipyard.streams._online import OnlineSink
from shipyard.streams._records import InvalidRecord, RecordSchema
from shipyard.streams._service import (
    consume,
    create_stream,
    get_stream,
    list_commits,
    list_rejections,
    list_streams,
    load_stream,
)
from shipyard.streams._source import Message, StreamProducer, StreamSource

__all__ = [
    "MAX_BATCH_RECORDS",
    "CommitResult",
    "ConsumeSummary",
    "FieldType",
    "HttpSource",
    "InvalidRecord",
    "LoadedStream",
    "Message",
    "NatsSource",
    "OnlineSink",
    "PutRecordsResult",
    "RecordBuffer",
    "RecordSchema",
    "RedisSource",
    "RejectedRecord",
    "Rejection",
    "StreamCommitInfo",
    "StreamConsumer",
    "StreamInfo",
    "StreamProducer",
    "StreamSource",
    "StreamSpec",
    "commit_buffer",
    "consume",
    "create_stream",
    "get_stream",
    "list_commits",
    "list_rejections",
    "list_streams",
    "load_stream",
    "open_producer",
    "open_source",
    "put_ndjson",
    "put_records",
    "read_committed",
]
