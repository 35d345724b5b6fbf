"""Per-record validation: every kind of malformed record is refused with a reason naming it."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from pydantic import ValidationError
from streamkit import SCHEMA, record, spec

from shipyard.streams import InvalidRecord, Message, RecordBuffer, RecordSchema, StreamSpec


@pytest.fixture
def schema() -> RecordSchema:
    return RecordSchema(StreamSpec.model_validate(spec("s")))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"user": "a", "amount": 1.0, "ok": True, "at": 0}, "missing field 'id'"),
        (record(1) | {"id": "7"}, "field 'id': expected integer, got string \"7\""),
        (record(1) | {"id": True}, "field 'id': expected integer, got boolean true"),
        (record(1) | {"id": 2**63}, "field 'id': integer out of the 64-bit range"),
        (record(1) | {"id": None}, "field 'id' must not be null"),
        (record(1) | {"amount": "1.5"}, "field 'amount': expected float, got string \"1.5\""),
        (record(1) | {"ok": 1}, "field 'ok': expected boolean, got integer 1"),
        (record(1) | {"user": ["x"]}, "field 'user': expected string, got array"),
        (record(1) | {"at": "yesterday"}, "field 'at': expected an ISO 8601 timestamp"),
        (record(1) | {"at": 1e300}, "field 'at': timestamp out of range"),
        ([1, 2], "a record must be a JSON object, got array"),
        ("text", "a record must be a JSON object, got string"),
    ],
)
def test_malformed_records_are_refused_with_the_reason(
    schema: RecordSchema, value: object, reason: str
) -> None:
    with pytest.raises(InvalidRecord) as refused:
        schema.check(value)
    assert str(refused.value).startswith(reason)


def test_broken_json_is_refused(schema: RecordSchema) -> None:
    with pytest.raises(InvalidRecord, match="broken JSON"):
        schema.decode(b'{"id": 1,')


def test_values_are_converted_and_extra_fields_ignored(schema: RecordSchema) -> None:
    values = schema.check(record(3) | {"amount": None, "extra": {"x": 1}, "at": "2024-05-01T10:00"})
    assert values[:4] == [3, "u3", None, False]
    table = schema.table([[v] for v in values])
    assert table.schema.names == list(SCHEMA)
    assert table.column("at")[0].as_py() == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert schema.check(record(2) | {"amount": 4})[2] == 4.0


def test_buffer_keeps_good_records_next_to_bad_ones_and_one_copy_per_id(
    schema: RecordSchema,
) -> None:
    buffer = RecordBuffer(schema)
    raw = [orjson.dumps(record(1)), b"{nope", orjson.dumps(record(1)), orjson.dumps(record(2))]
    for offset, value in enumerate(raw):
        buffer.add(Message(str(offset), "p", None, value))
    assert (len(buffer), buffer.rows, buffer.duplicates) == (4, 2, 1)
    assert [(r.offset, r.reason[:11]) for r in buffer.rejections] == [("1", "broken JSON")]
    assert buffer.table().column("id").to_pylist() == [1, 2]
    assert buffer.table(skip={"1"}).column("id").to_pylist() == [2]
    assert buffer.offsets() == {"p": ("0", "3")}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"id_field": "nope"}, "id_field 'nope' is not a field"),
        ({"id_field": "amount"}, "must be an integer or string field"),
        ({"key_field": "zzz"}, "key_field 'zzz' is not a field"),
        ({"nullable": ["id"]}, "cannot be nullable"),
        ({"schema": {"id": "integer", "x": "decimal"}}, "Input should be"),
        ({"commit_every_records": 0}, "greater than or equal to 1"),
        (
            {"source": {"kind": "redis", "claim_idle_seconds": 0.1}},
            "must be shorter than the source's redelivery time",
        ),
        ({"source": {"kind": "nats", "subject": "a.*"}}, "not a literal NATS subject"),
        ({"source": {"kind": "kafka"}}, "does not match any of the expected tags"),
        ({"source": {"kind": "redis", "url": "http://x"}}, "should match pattern"),
    ],
)
def test_inconsistent_specs_are_refused(change: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        StreamSpec.model_validate(spec("s") | change)


def test_column_checks_agree_with_record_checks(schema: RecordSchema) -> None:
    good = [record(i) for i in range(6)]
    bad: list[object] = [
        record(10) | {"id": 1.0},
        record(11) | {"ok": None},
        record(12) | {"at": True},
        {"id": 13},
        None,
        record(14) | {"user": 5},
        record(15) | {"amount": False},
    ]
    batch = [good[0], *bad, *good[1:]]
    columns, reasons = schema.check_many(batch)
    assert sorted(reasons) == list(range(1, 1 + len(bad)))
    for index, reason in reasons.items():
        with pytest.raises(InvalidRecord) as refused:
            schema.check(batch[index])
        assert str(refused.value) == reason
    assert columns[0] == [r["id"] for r in good]
    assert columns[2] == [schema.check(r)[2] for r in good]
    assert columns[4] == [schema.check(r)[4] for r in good]
