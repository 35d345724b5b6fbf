"""``shipyard streams``: create, put, consume, commits, rejections; Ctrl+C commits the buffer."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
import redis
import yaml
from streamkit import committed_ids, consumer_process, record, spec
from tests.cli.inprocess import reset_state

from shipyard.cli import main
from shipyard.cli._context import STATE
from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import context_for
from shipyard.streams import StreamSpec, create_stream

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Cli]:
    """Run the CLI in this process on the test's stores: ``cli(*args) -> (code, out, err)``."""
    monkeypatch.setenv("SHIPYARD_HOME", str(settings.home))
    monkeypatch.setenv("SHIPYARD_DATABASE_URL", settings.metadata_url)
    monkeypatch.setenv("SHIPYARD_ALLOWED_SOURCE_HOSTS", ",".join(settings.allowed_source_hosts))
    monkeypatch.delenv("SHIPYARD_URL", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        try:
            code = main(list(args))
        finally:
            if STATE._client is not None:
                STATE._client.close()
            reset_state()  # every field, so nothing leaks into the next command
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    yield run


@pytest.mark.parametrize("metadata_url", ["sqlite", "postgres"], indirect=True)
def test_create_put_consume_and_inspect(cli: Cli, tmp_path: Path) -> None:
    spec_file = tmp_path / "events.yaml"
    spec_file.write_text(yaml.safe_dump(spec("events")))
    code, out, err = cli("streams", "create", str(spec_file))
    assert code == 0, err
    assert "events created 1" in out
    lines = [orjson.dumps(record(1)), b"{oops", orjson.dumps(record(2) | {"id": "two"})]
    data = tmp_path / "events.jsonl"
    data.write_bytes(b"\n".join([*lines, orjson.dumps(record(3))]))
    code, out, err = cli("streams", "put", "events", str(data), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert (result["accepted"], result["rejected"]) == (2, 2)
    assert [r["index"] for r in result["rejections"]] == [1, 2]

    code, out, err = cli("streams", "consume", "events", "--idle-exit", "0.3")
    assert code == 0, err
    assert "commit 1: 2 rows" in out
    assert "idle: 2 received, 2 committed in 1 commits" in out
    code, out, _ = cli("streams", "commits", "events", "--json")
    assert [(c["seq"], c["rows"]) for c in json.loads(out)] == [(1, 2)]
    code, out, _ = cli("streams", "rejections", "events", "--json")
    assert sorted(r["reason"][:11] for r in json.loads(out)) == ["broken JSON", "field 'id':"]
    code, out, _ = cli("streams", "list")
    assert "events" in out and "http" in out
    code, out, _ = cli("streams", "show", "events")
    assert "2 records committed, 2 rejected" in out
    code, _, err = cli("streams", "show", "nope")
    assert code == 1
    assert "stream 'nope' does not exist" in err


def pending(client: redis.Redis, key: str) -> int:
    """Entries delivered to the group's consumers and not yet acknowledged (0 before it exists)."""
    try:
        return int(client.xpending(key, "shipyard")["pending"])
    except redis.ResponseError:
        return 0


@pytest.fixture
def metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite unless a test asks for PostgreSQL: each start of a consumer process costs."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return f"sqlite:///{tmp_path / 'home' / 'shipyard.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def test_ctrl_c_commits_the_buffer_then_exits(
    settings: Settings, platform: Platform, redis_url: str, redis_key: str, tmp_path: Path
) -> None:
    source = {"kind": "redis", "url": redis_url, "key": redis_key, "claim_idle_seconds": 600}
    stream = spec("slow", source, commit_every_records=1000, commit_every_seconds=300)
    create_stream(context_for(platform, "admin"), StreamSpec.model_validate(stream))
    client = redis.Redis.from_url(redis_url)
    for i in range(50):
        client.xadd(redis_key, {"record": orjson.dumps(record(i))})
    process = consumer_process(settings, "slow")
    deadline = time.monotonic() + 60
    while pending(client, redis_key) < 50:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err.decode()
    assert json.loads(out)["stopped"] == "stopped"
    assert sorted(committed_ids(platform, "slow")) == list(range(50))
    assert pending(client, redis_key) == 0
    client.close()
