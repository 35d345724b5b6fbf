"""Streams in the SDK: create specs, send records, follow commits and rejections."""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from shipyard.client._group import _Group, read_file
from shipyard.errors import InvalidInput
from shipyard.schemas.streams import PutRecordsResult, RejectedRecord, StreamCommitInfo, StreamInfo


def read_stream_spec(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A stream spec from a YAML (or JSON) file, or an error naming the file."""
    try:
        loaded = yaml.safe_load(read_file(path))
    except yaml.YAMLError as error:
        raise InvalidInput(f"{Path(path).name} is not valid YAML: {error}", field="spec") from None
    if not isinstance(loaded, dict):
        raise InvalidInput(f"{Path(path).name} must hold a mapping", field="spec")
    return loaded


class Streams(_Group):
    def create(self, spec: Mapping[str, Any] | str | os.PathLike[str]) -> StreamInfo:
        """Create a stream or a new version of its spec (a dict, or the path of a YAML file)."""
        body = dict(spec) if isinstance(spec, Mapping) else read_stream_spec(spec)
        return StreamInfo.model_validate(self._t.call("streams.create", spec=body))

    def list(self) -> builtins.list[StreamInfo]:
        return [StreamInfo.model_validate(s) for s in self._t.call("streams.list")]

    def get(self, name: str, version: int | None = None) -> StreamInfo:
        return StreamInfo.model_validate(self._t.call("streams.get", name=name, version=version))

    def put(
        self, name: str, records: Iterable[Any], *, partition_key: str | None = None
    ) -> PutRecordsResult:
        """Send a batch of records; invalid ones come back with their index and reason."""
        return PutRecordsResult.model_validate(
            self._t.call(
                "streams.put_records",
                name=name,
                records=builtins.list(records),
                partition_key=partition_key,
            )
        )

    def put_ndjson(
        self, name: str, data: bytes | str, *, partition_key: str | None = None
    ) -> PutRecordsResult:
        """Send newline-delimited JSON; rejections are numbered by 0-based line."""
        content = data.encode() if isinstance(data, str) else data
        return PutRecordsResult.model_validate(
            self._t.call(
                "streams.put_ndjson", name=name, content=content, partition_key=partition_key
            )
        )

    def put_file(
        self, name: str, path: str | os.PathLike[str], *, partition_key: str | None = None
    ) -> PutRecordsResult:
        """Send a JSON Lines file."""
        return self.put_ndjson(name, read_file(path), partition_key=partition_key)

    def commits(
        self, name: str, *, after_seq: int = 0, limit: int = 100
    ) -> builtins.list[StreamCommitInfo]:
        return [
            StreamCommitInfo.model_validate(c)
            for c in self._t.call(
                "streams.list_commits", name=name, after_seq=after_seq, limit=limit
            )
        ]

    def rejections(self, name: str, *, limit: int = 100) -> builtins.list[RejectedRecord]:
        return [
            RejectedRecord.model_validate(r)
            for r in self._t.call("streams.list_rejections", name=name, limit=limit)
        ]
