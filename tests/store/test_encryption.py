"""Envelope encryption of blobs: every alteration of a sealed object is caught on read, an
object moved under another digest does not open, rotation re-wraps data keys only, and
plaintext objects stay readable with encryption on or off."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from shipyard.errors import IntegrityError, InvalidInput, NotFound
from shipyard.store.blobs import BlobStore, blob_key, compute_digest, open_blob_store, rotate_kek
from shipyard.store.blobs._crypto import MAGIC, read_header

CHUNK = 1024  # the smallest chunk size a header may name: a few chunks from a few KiB


def _store(tmp_path: Path, *, seal: bool = True, keys: bool = True) -> BlobStore:
    encryption = {"keys": str(tmp_path / "keys"), "seal_writes": seal} if keys else None
    store = open_blob_store(str(tmp_path / "blobs"), encryption=encryption)
    if store.envelope is not None:
        store.envelope.chunk_bytes = CHUNK
    return store


def _file(tmp_path: Path, digest: str) -> Path:
    return tmp_path / "blobs" / blob_key(digest)


def _header(raw: bytes, digest: str) -> tuple[int, int]:
    """The lengths of a stored object's fixed header and of its whole header."""
    source = io.BytesIO(raw)
    header = read_header(source, source.read(13), digest)
    return len(header.fixed), len(header.encode())


def _layout(raw: bytes, digest: str) -> tuple[int, list[tuple[int, int]]]:
    """The header's length and each chunk's (start, end) in a stored object."""
    header = _header(raw, digest)[1]
    starts = range(header, len(raw), CHUNK + 16)
    return header, [(start, min(start + CHUNK + 16, len(raw))) for start in starts]


def _refused(store: BlobStore, digest: str, tmp_path: Path) -> None:
    with pytest.raises(IntegrityError):
        store.get_bytes(digest)
    with pytest.raises(IntegrityError):
        store.download(digest, tmp_path / "out" / "blob")
    assert not (tmp_path / "out" / "blob").exists()


def test_sealed_objects_hold_no_plaintext_and_read_back(tmp_path: Path) -> None:
    store = _store(tmp_path)
    data = b"quokka-marmalade " * 300  # 5,100 bytes: five chunks, the last one short
    digest = store.put_bytes(data)
    raw = _file(tmp_path, digest).read_bytes()
    assert raw.startswith(MAGIC) and b"quokka" not in raw
    assert store.get_bytes(digest) == data
    assert store.download(digest, tmp_path / "copy").read_bytes() == data
    assert store.size(digest) == len(data)
    assert store.local_file(digest) is None  # never read in place: it is ciphertext
    header, chunks = _layout(raw, digest)
    assert len(chunks) == 5 and chunks[-1][1] - chunks[-1][0] == 5100 - 4 * CHUNK + 16
    assert header < 400

    empty = store.put_bytes(b"")
    assert store.get_bytes(empty) == b"" and store.size(empty) == 0


def test_every_alteration_of_a_sealed_object_is_caught(tmp_path: Path) -> None:
    """One byte flipped anywhere (header, key slot, each chunk, each tag), truncation at
    and between chunk boundaries, chunks swapped, dropped or repeated."""
    store = _store(tmp_path)
    data = os.urandom(3 * CHUNK + 100)
    digest = store.put_bytes(data)
    path = _file(tmp_path, digest)
    good = path.read_bytes()
    header, chunks = _layout(good, digest)
    assert len(chunks) == 4

    positions = set(range(header))  # every header byte; in each chunk: its ends, its tag
    for start, end in chunks:
        positions |= {start, (start + end) // 2, *range(end - 16, end)}
    for position in sorted(positions):
        altered = bytearray(good)
        altered[position] ^= 0x01
        path.write_bytes(bytes(altered))
        with pytest.raises(IntegrityError):
            store.get_bytes(digest)

    (a0, a1), (b0, b1), (c0, _), (d0, _) = chunks
    forgeries = {
        "truncated at a chunk boundary": good[:c0],
        "truncated inside a chunk": good[: b0 + 100],
        "truncated inside the header": good[: header - 5],
        "last chunk dropped": good[:d0],
        "a middle chunk dropped": good[:b0] + good[c0:],
        "two chunks swapped": good[:a0] + good[b0:b1] + good[a0:a1] + good[c0:],
        "a chunk repeated": good[:b1] + good[b0:],
        "bytes appended": good + b"\0" * 16,
    }
    for name, forged in forgeries.items():
        path.write_bytes(forged)
        try:
            _refused(store, digest, tmp_path)
        except BaseException:
            pytest.fail(f"not detected: {name}")
    path.write_bytes(good)
    assert store.get_bytes(digest) == data


def test_an_object_moved_under_another_digest_does_not_open(tmp_path: Path) -> None:
    store = _store(tmp_path)
    first, second = store.put_bytes(b"first model " * 200), store.put_bytes(b"second " * 200)
    one, two = _file(tmp_path, first), _file(tmp_path, second)
    one_bytes, two_bytes = one.read_bytes(), two.read_bytes()

    one.write_bytes(two_bytes)  # second's object copied over first's key
    with pytest.raises(IntegrityError, match="copied or moved"):
        store.get_bytes(first)

    # second's key slot (its wrapped data key) spliced into first's header
    (f0, h0), (f1, h1) = _header(one_bytes, first), _header(two_bytes, second)
    one.write_bytes(one_bytes[:f0] + two_bytes[f1:h1] + one_bytes[h0:])
    _refused(store, first, tmp_path)

    # first's header with second's chunks (both sealed under the same KEK)
    one.write_bytes(one_bytes[:h0] + two_bytes[h1:])
    _refused(store, first, tmp_path)


def test_rotation_rewraps_data_keys_and_the_old_kek_goes(tmp_path: Path) -> None:
    store = _store(tmp_path)
    blobs = {store.put_bytes(os.urandom(2 * CHUNK + n)): n for n in range(3)}
    old = store.envelope.keys.current_key_id()  # type: ignore[union-attr]
    before = {d: _file(tmp_path, d).read_bytes() for d in blobs}
    plain = _store(tmp_path, seal=False).put_bytes(b"stored while encryption was off")

    report = rotate_kek(store, remove_old=True)

    assert report.key_id != old and report.rewrapped == 3 and report.plaintext == 1
    assert report.in_use == {report.key_id: 3} and report.removed == [old]
    assert not (tmp_path / "keys" / f"kek-{old}.key").exists()
    fresh = _store(tmp_path)  # a new process: only the new KEK on disk
    for digest, extra in blobs.items():
        after = _file(tmp_path, digest).read_bytes()
        assert fresh.key_id(digest) == report.key_id
        # the fixed header and every chunk are byte for byte as they were: only the key
        # slot changed, no data was re-encrypted
        (fixed, end_before), (_, end_after) = (
            _header(before[digest], digest),
            _header(after, digest),
        )
        assert after[:fixed] == before[digest][:fixed]
        assert after[end_after:] == before[digest][end_before:]
        assert len(fresh.get_bytes(digest)) == 2 * CHUNK + extra
    assert fresh.get_bytes(plain) == b"stored while encryption was off"
    again = rotate_kek(fresh)
    assert again.rewrapped == 3 and report.key_id in fresh.envelope.keys.key_ids()  # type: ignore[union-attr]


def test_encryption_off_writes_plaintext_and_still_reads_sealed_objects(tmp_path: Path) -> None:
    sealed = _store(tmp_path).put_bytes(b"written with encryption on")
    off = _store(tmp_path, seal=False)
    plain = off.put_bytes(b"written with encryption off")
    assert _file(tmp_path, plain).read_bytes() == b"written with encryption off"
    assert off.local_file(plain) == _file(tmp_path, plain)  # read in place, as before
    assert off.get_bytes(sealed) == b"written with encryption on"

    keyless = _store(tmp_path, keys=False)
    assert keyless.get_bytes(plain) == b"written with encryption off"
    with pytest.raises(IntegrityError, match="no keys"):
        keyless.get_bytes(sealed)

    # plaintext that starts like a sealed object is stored behind a marker, and reads back
    lookalike = MAGIC + b"\x01 not really sealed"
    for path_kind in ("bytes", "file", "stream"):
        source = tmp_path / f"lookalike-{path_kind}"
        source.write_bytes(lookalike + path_kind.encode())
        if path_kind == "bytes":
            digest = off.put_bytes(source.read_bytes())
        elif path_kind == "file":
            digest = off.put_file(source)
        else:
            with source.open("rb") as stream:
                digest = off.put_stream(stream)
        assert off.get_bytes(digest) == lookalike + path_kind.encode()
        assert off.local_file(digest) is None
    # ... and one written raw before this format existed reads back too (its digest decides)
    raw = lookalike + b" from an old version"
    target = _file(tmp_path, compute_digest(raw))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(raw)
    assert off.get_bytes(compute_digest(raw)) == raw


def test_kek_files_are_private_and_a_missing_kek_is_named(tmp_path: Path) -> None:
    store = _store(tmp_path)
    digest = store.put_bytes(b"x" * 10)
    key_id = store.envelope.keys.current_key_id()  # type: ignore[union-attr]
    key_file = tmp_path / "keys" / f"kek-{key_id}.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and key_file.stat().st_size == 32
    assert (tmp_path / "keys" / "kek-current").read_text() == key_id
    key_file.rename(tmp_path / "elsewhere.key")
    with pytest.raises(IntegrityError, match=f"key-encryption key '{key_id}' is not in"):
        _store(tmp_path).get_bytes(digest)


def test_a_pinned_kek_is_used_and_cannot_be_rotated(tmp_path: Path) -> None:
    options: dict[str, Any] = {"keys": str(tmp_path / "keys"), "kek_id": "team-a"}
    pinned = open_blob_store(str(tmp_path / "blobs"), encryption=options)
    with pytest.raises(NotFound, match="team-a"):
        pinned.put_bytes(b"no such key yet")
    with pytest.raises(InvalidInput, match="pinned"):
        rotate_kek(pinned)


def test_settings_turn_encryption_off_from_yaml_or_the_environment(tmp_path: Path) -> None:
    from shipyard.config import Settings, load_settings

    assert Settings(home=tmp_path).blob_encryption["seal_writes"] is True  # on by default
    (tmp_path / "config.yaml").write_text("encryption: off\n")  # YAML reads a bare off as False
    assert load_settings({"SHIPYARD_HOME": str(tmp_path)}).encryption == "off"
    environ = {"SHIPYARD_HOME": str(tmp_path), "SHIPYARD_ENCRYPTION": "on"}
    assert load_settings(environ).blob_encryption["seal_writes"] is True
    with pytest.raises(InvalidInput) as bad:
        load_settings({"SHIPYARD_HOME": str(tmp_path), "SHIPYARD_KEK_ID": "../../etc"})
    assert bad.value.field == "kek_id"


def test_cli_status_and_rotate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from shipyard.cli._context import STATE
    from shipyard.cli._main import app
    from shipyard.config import Settings

    settings = Settings(home=tmp_path)
    store = open_blob_store(settings.blobs_url, encryption=settings.blob_encryption)
    digests = [store.put_bytes(b"model %d" % n) for n in range(3)]
    old = store.envelope.keys.current_key_id()  # type: ignore[union-attr]
    monkeypatch.setattr(STATE, "_settings", settings)
    runner = CliRunner()

    status = json.loads(runner.invoke(app, ["encryption", "status", "--json"]).stdout)
    assert status["blobs"] == {old: 3} and status["current_kek"] == old
    rotated = runner.invoke(app, ["encryption", "rotate", "--remove-old", "--json"])
    report = json.loads(rotated.stdout)
    assert report["rewrapped"] == 3 and report["removed"] == [old]
    assert report["in_use"] == {report["kek"]: 3}
    assert [store.get_bytes(d) for d in digests] == [b"model %d" % n for n in range(3)]

    assert store.envelope.keys.key_ids() == [report["kek"]]  # type: ignore[union-attr]

    # the rotation is an audited operation: its counts are in the hash-chained log
    from shipyard.client import Client

    client = Client(settings=settings)
    [event] = client.iam.audit_events(action="encryption:RotateKeys")
    assert event.outcome == "succeeded" and event.resource == "sy:encryption/*"
    assert event.detail["rewrapped"] == 3 and event.detail["previous"] == {old: 3}
    assert event.detail["kek"] == report["kek"] and client.iam.verify_audit_log().ok
    refused = runner.invoke(app, ["--url", "http://127.0.0.1:9", "encryption", "status"])
    assert isinstance(refused.exception, InvalidInput) and refused.exception.field == "url"
