"""The ingest endpoint and an ``http`` stream, through the SDK in-process and over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest
from streamkit import committed_ids, record, spec
from tests.conftest import LiveServer

from shipyard.client import Client
from shipyard.config import Settings
from shipyard.errors import InvalidInput, NotFound
from shipyard.platform import Platform
from shipyard.security import context_for
from shipyard.streams import consume, read_committed


@pytest.fixture
def consumer_platform(settings: Settings) -> Iterator[Platform]:
    """The stores as a consumer process next to them sees them."""
    opened = Platform.open(settings)
    yield opened
    opened.close()


def drain(platform: Platform, name: str) -> None:
    consume(context_for(platform, "admin"), name, idle_exit=0.3)


def test_specs_are_versioned(client: Client) -> None:
    first = client.streams.create(spec("clicks"))
    assert (first.name, first.version, first.created) == ("clicks", 1, True)
    assert first.spec.dataset == "clicks"
    assert first.spec.fields["amount"] == "float"
    again = client.streams.create(spec("clicks"))
    assert (again.version, again.created) == (1, False)
    second = client.streams.create(spec("clicks", commit_every_records=500))
    assert (second.version, second.created) == (2, True)
    assert client.streams.get("clicks", 1).spec.commit_every_records == 100
    assert [(s.name, s.version) for s in client.streams.list()] == [("clicks", 2)]
    with pytest.raises(NotFound):
        client.streams.get("nope")
    with pytest.raises(InvalidInput, match="id_field 'nope'"):
        client.streams.create(spec("bad", id_field="nope"))
    with pytest.raises(InvalidInput, match="not a valid name"):
        client.streams.create(spec("bad name"))


def test_malformed_records_are_refused_per_record_and_never_block_good_ones(
    client: Client, consumer_platform: Platform
) -> None:
    client.streams.create(spec("orders"))
    batch = [
        record(1),
        record(2) | {"amount": "lots"},
        {"id": 3},
        "not an object",
        record(4) | {"amount": None},
    ]
    result = client.streams.put("orders", batch)
    assert (result.accepted, result.rejected, len(result.offsets)) == (2, 3, 2)
    assert [(r.index, r.reason) for r in result.rejections] == [
        (1, "field 'amount': expected float, got string \"lots\""),
        (2, "missing field 'user'"),
        (3, "a record must be a JSON object, got string"),
    ]
    lines = b"\n".join(
        [orjson.dumps(record(5)), b'{"id": 6, "user":', b"", orjson.dumps(record(7))]
    )
    result = client.streams.put_ndjson("orders", lines)
    assert (result.accepted, result.rejected) == (2, 1)
    assert result.rejections[0].index == 1
    assert result.rejections[0].reason.startswith("broken JSON")

    drain(consumer_platform, "orders")
    assert committed_ids(consumer_platform, "orders") == [1, 4, 5, 7]
    info = client.streams.get("orders")
    assert (info.committed_records, info.rejected_records, info.commits) == (4, 4, 1)
    rejected = client.streams.rejections("orders")
    assert len(rejected) == 4
    assert rejected[0].reason.startswith("broken JSON")
    assert rejected[0].excerpt == '{"id": 6, "user":'
    commits = client.streams.commits("orders")
    assert [(c.seq, c.rows) for c in commits] == [(1, 4)]
    table = read_committed(consumer_platform, "orders")
    assert table.column("amount").to_pylist() == [0.5, None, 2.5, 3.5]
    version = client.datasets.get("orders")
    assert (version.version, version.rows, version.source) == (1, 4, "stream:orders#1")
    assert commits[0].dataset_version == 1
    head = client.datasets.head("orders@1", rows=10)
    assert [r["id"] for r in head.rows] == [1, 4, 5, 7]


def test_a_record_id_is_committed_once(client: Client, consumer_platform: Platform) -> None:
    client.streams.create(spec("once", commit_every_records=3))
    client.streams.put("once", [record(i) for i in range(5)])
    drain(consumer_platform, "once")
    client.streams.put("once", [record(i) for i in range(3, 8)] + [record(7)])
    drain(consumer_platform, "once")
    assert sorted(committed_ids(consumer_platform, "once")) == list(range(8))
    info = client.streams.get("once")
    assert (info.committed_records, info.duplicate_records) == (8, 3)
    versions = client.datasets.versions("once")
    assert [v.rows for v in versions] == [3, 5, 6, 8]
    assert sorted(r["id"] for r in client.datasets.head("once@2", rows=100).rows) == list(range(5))
    latest = client.datasets.head("once", rows=100)
    assert sorted(r["id"] for r in latest.rows) == list(range(8))
    amount = next(c for c in versions[-1].profile["columns"] if c["name"] == "amount")
    assert (amount["count"], amount["min"], amount["max"]) == (8, 0.0, 3.5)


def test_bad_requests_name_the_problem(client: Client) -> None:
    with pytest.raises(NotFound, match="stream 'ghost'"):
        client.streams.put("ghost", [record(1)])
    client.streams.create(spec("limits"))
    with pytest.raises(InvalidInput, match="at most 10000 records") as refused:
        client.streams.put("limits", [record(1)] * 10_001)
    assert refused.value.field == "records"
    with pytest.raises(InvalidInput) as refused:
        client.streams.put("limits", [record(1)], partition_key="")
    assert refused.value.field == "partition_key"
    with pytest.raises(InvalidInput) as refused:
        client.streams.commits("limits", limit=0)
    assert refused.value.field == "limit"
    assert client.streams.put_ndjson("limits", b"\n\n").accepted == 0


def test_rest_ingest_answers_per_record_even_for_a_repeated_request_id(
    api_server: LiveServer, admin_key: str, platform: Platform
) -> None:
    headers = {"Authorization": f"Bearer {admin_key}", "x-request-id": "same-id"}
    with httpx.Client(base_url=api_server.url, headers=headers) as http:
        created = http.post("/api/v1/streams", json={"spec": spec("rest")})
        assert created.status_code == 201, created.text
        for _ in range(2):
            answer = http.post(
                "/api/v1/streams/rest/records", json={"records": [record(1), {"id": "x"}]}
            )
            assert answer.status_code == 200, answer.text
            assert (answer.json()["accepted"], answer.json()["rejected"]) == (1, 1)
        lines = http.post(
            "/api/v1/streams/rest/records/ndjson",
            params={"partition_key": "k"},
            content=b'{"id": 2\n' + orjson.dumps(record(3)),
        )
        assert lines.json()["rejections"][0]["index"] == 0
        bad = http.post("/api/v1/streams/rest/records", json={"records": "nope"})
        assert bad.status_code == 400
        assert bad.json()["error"]["field"] == "records"
        assert http.get("/api/v1/streams/rest").json()["rejected_records"] == 3
