"""A stream's spec (schema, target dataset, commit policy, source) and what the service returns."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import ConfigDict, Field, model_validator

from shipyard.schemas._base import WireModel

FieldType = Literal["integer", "float", "string", "boolean", "timestamp"]

DEFAULT_DEDUPE_SECONDS = 7 * 24 * 3600.0

_SUBJECT = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\Z")
_JS_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")


class _Spec(WireModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpSource(_Spec):
    """Records arrive only through the ingest endpoint and wait in the metadata database."""

    kind: Literal["http"] = "http"


class RedisSource(_Spec):
    """A Redis stream read by a consumer group (XREADGROUP, XACK after commit, XAUTOCLAIM)."""

    kind: Literal["redis"] = "redis"
    url: str = Field(default="redis://127.0.0.1:6379/0", pattern=r"^(redis|rediss|unix)://")
    key: str = Field(default="", max_length=200)
    group: str = Field(default="shipyard", min_length=1, max_length=200)
    claim_idle_seconds: float = Field(default=30.0, gt=0)


class NatsSource(_Spec):
    """A JetStream stream read by a durable pull consumer, acknowledged after commit."""

    kind: Literal["nats"] = "nats"
    url: str = Field(default="nats://127.0.0.1:4222", pattern=r"^(nats|tls|ws|wss)://")
    stream: str = ""
    subject: str = ""
    durable: str = "shipyard"
    ack_wait_seconds: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _names(self) -> NatsSource:
        if self.stream and not _JS_NAME.match(self.stream):
            raise ValueError(f"stream {self.stream!r} must be letters, digits, '_' or '-'")
        if self.subject and not _SUBJECT.match(self.subject):
            raise ValueError(f"subject {self.subject!r} is not a literal NATS subject")
        if not _JS_NAME.match(self.durable):
            raise ValueError(f"durable {self.durable!r} must be letters, digits, '_' or '-'")
        return self


Source = Annotated[HttpSource | RedisSource | NatsSource, Field(discriminator="kind")]


class StreamSpec(_Spec):
    """What a stream carries and where it lands.

    ``schema`` maps each field to its type; ``id_field`` names the record id that
    makes delivery exactly-once in effect; a commit happens every
    ``commit_every_records`` records or ``commit_every_seconds`` seconds, whichever first.

    Committed ids are remembered for the dedupe window: ``dedupe_window_seconds`` (default
    7 days) and, when set, ``dedupe_window_records`` (at least the newest that many
    records). An id leaves memory once its commit is outside either bound, whole commits at
    a time; a duplicate of a record older than the window is not detected and is stored
    again. ``dedupe_window_seconds: null`` keeps every id forever.
    """

    name: str
    fields: dict[str, FieldType] = Field(alias="schema", min_length=1, max_length=500)
    nullable: list[str] = Field(default_factory=list)
    dataset: str = ""
    id_field: str
    key_field: str | None = None
    commit_every_records: int = Field(default=10_000, ge=1, le=1_000_000)
    commit_every_seconds: float = Field(default=1.0, ge=0.01, le=3600)
    source: Source = Field(default_factory=HttpSource)
    online_view: str | None = None
    dedupe_window_seconds: float | None = Field(default=DEFAULT_DEDUPE_SECONDS, gt=0)
    dedupe_window_records: int | None = Field(default=None, ge=1)

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, serialize_by_alias=True
    )

    @model_validator(mode="after")
    def _consistent(self) -> StreamSpec:
        for role, name in (("id_field", self.id_field), ("key_field", self.key_field)):
            if name is not None and name not in self.fields:
                raise ValueError(f"{role} {name!r} is not a field of the schema")
        if self.fields[self.id_field] not in ("integer", "string"):
            raise ValueError(f"id_field {self.id_field!r} must be an integer or string field")
        if self.id_field in self.nullable:
            raise ValueError(f"id_field {self.id_field!r} cannot be nullable")
        unknown = sorted(set(self.nullable) - set(self.fields))
        if unknown:
            raise ValueError(f"nullable names {unknown[0]!r}, which is not a field of the schema")
        wait = _redelivery_seconds(self.source)
        if wait is not None and self.commit_every_seconds >= wait:
            raise ValueError(
                f"commit_every_seconds ({self.commit_every_seconds}) must be shorter than the "
                f"source's redelivery time ({wait} s), or buffered records get redelivered"
            )
        return self


def _redelivery_seconds(source: HttpSource | RedisSource | NatsSource) -> float | None:
    if isinstance(source, RedisSource):
        return source.claim_idle_seconds
    if isinstance(source, NatsSource):
        return source.ack_wait_seconds
    return None


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


class StreamInfo(WireModel):
    """One version of a stream's spec, with the stream's running counters."""

    name: str
    version: int
    spec: StreamSpec
    digest: str
    commits: int
    committed_records: int
    rejected_records: int
    duplicate_records: int
    last_commit_at: datetime | None
    created_by: str
    created_at: datetime
    created: bool = False

    @property
    def resource(self) -> str:
        return f"sy:stream/{self.name}/{self.version}"


class Rejection(WireModel):
    """Why the record at ``index`` of a batch was refused."""

    index: int
    reason: str


class PutRecordsResult(WireModel):
    """What happened to a batch: how many records were accepted, and why the others were not."""

    stream: str
    accepted: int
    rejected: int
    rejections: list[Rejection]
    offsets: list[str]


class StreamCommitInfo(WireModel):
    """One commit of a stream: a new Parquet partition of its dataset."""

    stream: str
    seq: int
    dataset: str
    dataset_version: int | None
    digest: str | None
    rows: int
    rejected: int
    duplicates: int
    size_bytes: int
    first_offset: str
    last_offset: str
    created_at: datetime


class RejectedRecord(WireModel):
    """A record a consumer or the ingest endpoint refused, kept for inspection."""

    source: str
    offset: str
    reason: str
    excerpt: str
    created_at: datetime


class ConsumeSummary(WireModel):
    """What one run of a consumer did before it stopped."""

    stream: str
    received: int = 0
    committed: int = 0
    rejected: int = 0
    duplicates: int = 0
    commits: int = 0
    stopped: str = ""
