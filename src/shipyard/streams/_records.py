"""Per-record validation against a stream's schema, and the Arrow types records become."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa

from shipyard.schemas.streams import FieldType, StreamSpec

_INT64 = (-(2**63), 2**63 - 1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_EXCERPT = 60

ARROW_TYPES: dict[FieldType, pa.DataType] = {
    "integer": pa.int64(),
    "float": pa.float64(),
    "string": pa.string(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


class InvalidRecord(ValueError):
    """A record that does not fit the schema; the message is the reason given back."""


def json_kind(value: object) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _shown(value: object) -> str:
    text = orjson.dumps(value).decode() if not isinstance(value, dict | list) else ""
    if len(text) > _MAX_EXCERPT:
        text = text[:_MAX_EXCERPT] + "…"
    return f"{json_kind(value)} {text}".rstrip()


def _integer(value: object) -> int:
    if type(value) is int and _INT64[0] <= value <= _INT64[1]:
        return value
    if type(value) is int:
        raise InvalidRecord("integer out of the 64-bit range")
    raise InvalidRecord(f"expected integer, got {_shown(value)}")


def _float(value: object) -> float:
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise InvalidRecord(f"expected float, got {_shown(value)}")


def _string(value: object) -> str:
    if type(value) is str:
        return value
    raise InvalidRecord(f"expected string, got {_shown(value)}")


def _boolean(value: object) -> bool:
    if type(value) is bool:
        return value
    raise InvalidRecord(f"expected boolean, got {_shown(value)}")


def _timestamp(value: object) -> int:
    """Microseconds since the epoch, from ISO 8601 text or epoch seconds."""
    if type(value) is int or type(value) is float:
        micros = round(value * 1_000_000)
        if not -62_135_596_800_000_000 <= micros <= 253_402_300_799_999_999:
            raise InvalidRecord("timestamp out of range (years 1 to 9999)")
        return micros
    if type(value) is str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidRecord(
                f"expected an ISO 8601 timestamp or epoch seconds, got {_shown(value)}"
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        delta = parsed - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    raise InvalidRecord(f"expected an ISO 8601 timestamp or epoch seconds, got {_shown(value)}")


_CONVERTERS: dict[FieldType, Callable[[object], Any]] = {
    "integer": _integer,
    "float": _float,
    "string": _string,
    "boolean": _boolean,
    "timestamp": _timestamp,
}


_MISSING = object()
_BAD = object()


def _timestamp_or_bad(value: object) -> object:
    if value is _MISSING:
        return _BAD
    try:
        return _timestamp(value)
    except InvalidRecord:
        return _BAD


def _column(kind: FieldType, values: list[Any], nullable: bool) -> tuple[list[Any], list[int]]:
    """A whole column checked at once: its values ready for Arrow, and the positions that fail.

    Only says where; ``RecordSchema.check`` says why, for the few records that fail.
    """
    if kind == "timestamp":
        values = [v if v is None else _timestamp_or_bad(v) for v in values]
        wrong = [i for i, v in enumerate(values) if v is _BAD or v is _MISSING]
    elif kind == "integer":
        low, high = _INT64
        wrong = [i for i, v in enumerate(values) if not (type(v) is int and low <= v <= high)]
    elif kind == "float":
        wrong = [i for i, v in enumerate(values) if type(v) is not float and type(v) is not int]
    elif kind == "string":
        wrong = [i for i, v in enumerate(values) if type(v) is not str]
    else:
        wrong = [i for i, v in enumerate(values) if type(v) is not bool]
    if nullable and wrong:
        wrong = [i for i in wrong if values[i] is not None]
    return values, wrong


class RecordSchema:
    """Checks records against a stream's schema and gives the Arrow schema they are stored with.

    Fields beyond the schema are ignored; a missing field or a null in a field that is not
    nullable rejects the record.
    """

    def __init__(self, spec: StreamSpec) -> None:
        nullable = set(spec.nullable)
        self.names = list(spec.fields)
        self.id_index = self.names.index(spec.id_field)
        self.key_field = spec.key_field
        self._fields = [
            (name, _CONVERTERS[kind], name in nullable) for name, kind in spec.fields.items()
        ]
        self._kinds = [(name, kind, name in nullable) for name, kind in spec.fields.items()]
        self.arrow_schema = pa.schema(
            [
                pa.field(name, ARROW_TYPES[kind], name in nullable)
                for name, kind in spec.fields.items()
            ]
        )

    def decode(self, raw: bytes) -> object:
        """Parse one JSON record; InvalidRecord when the bytes are not JSON."""
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise InvalidRecord(f"broken JSON: {error}") from None

    def check(self, record: object) -> list[Any]:
        """The record's values in schema order, converted; InvalidRecord names the first problem."""
        if not isinstance(record, dict):
            raise InvalidRecord(f"a record must be a JSON object, got {json_kind(record)}")
        values: list[Any] = []
        for name, convert, nullable in self._fields:
            if name not in record:
                raise InvalidRecord(f"missing field {name!r}")
            value = record[name]
            if value is None:
                if not nullable:
                    raise InvalidRecord(f"field {name!r} must not be null")
                values.append(None)
                continue
            try:
                values.append(convert(value))
            except InvalidRecord as error:
                raise InvalidRecord(f"field {name!r}: {error}") from None
        return values

    def check_many(self, records: list[object]) -> tuple[list[list[Any]], dict[int, str]]:
        """Columns of the valid records in schema order, and the reason for each invalid index.

        Checks a column at a time; only records that fail go through ``check`` for a reason.
        """
        wrong: set[int] = {i for i, r in enumerate(records) if type(r) is not dict}
        columns: list[list[Any]] = []
        for name, kind, nullable in self._kinds:
            values = [r.get(name, _MISSING) if type(r) is dict else None for r in records]
            values, failed = _column(kind, values, nullable)
            wrong.update(failed)
            columns.append(values)
        reasons: dict[int, str] = {}
        for index in sorted(wrong):
            try:
                self.check(records[index])
            except InvalidRecord as error:
                reasons[index] = str(error)
            else:
                reasons[index] = "does not match the schema"
        if reasons:
            keep = [i for i in range(len(records)) if i not in reasons]
            columns = [[column[i] for i in keep] for column in columns]
        return columns, reasons

    def key_of(self, record: dict[str, Any]) -> str | None:
        """The record's partition key, when the stream names a key field."""
        if self.key_field is None:
            return None
        value = record.get(self.key_field)
        return None if value is None else str(value)

    def table(self, columns: list[list[Any]]) -> pa.Table:
        """An Arrow table from column lists in schema order."""
        arrays = [
            pa.array(values, type=field.type)
            for values, field in zip(columns, self.arrow_schema, strict=True)
        ]
        return pa.Table.from_arrays(arrays, schema=self.arrow_schema)
