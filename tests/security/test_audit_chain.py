"""The hash-chained audit log: a database user who drops the append-only triggers and edits,
deletes, inserts, reorders or truncates events, or forges a checkpoint, is caught, and the
first bad event is named; exports verify offline; concurrent writers make one chain."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shipyard.audit import (
    canonical_time,
    checkpoint_message,
    event_hash,
    key_id,
    verify_export,
    write_export_page,
)
from shipyard.cli import main
from shipyard.cli._context import STATE
from shipyard.clock import utcnow
from shipyard.config import Settings
from shipyard.errors import InvalidInput
from shipyard.platform import Platform
from shipyard.schemas.security import AuditVerification
from shipyard.security import (
    ADMIN,
    check_audit_log,
    context_for,
    export_audit_log,
    record_event,
    record_events,
    seal_audit_log,
    verify_audit_log,
)
from shipyard.store.metadata import Database
from shipyard.store.metadata import tables as t

MIGRATIONS = Path(__file__).parents[2] / "src" / "shipyard" / "store" / "metadata" / "migrations"


def _seed(platform: Platform, count: int, who: str = "alice") -> None:
    record_events(
        platform.db,
        [
            {
                "principal": who,
                "action": "datasets:Ingest",
                "resource": f"sy:dataset/d{i}",
                "outcome": "succeeded",
                "request_id": f"r{i}",
                "detail": {"rows": i, "ratio": i / 3, "note": "é ✓", "uses": ["a", "b"]},
            }
            for i in range(count)
        ],
    )


def _raw(platform: Platform, *statements: str, **params: object) -> None:
    """Run SQL as a database user would, outside Shipyard, in one transaction."""
    with platform.db.engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement), params)


def _drop_triggers(platform: Platform) -> None:
    if platform.db.is_sqlite:
        _raw(
            platform,
            "DROP TRIGGER audit_events_no_update",
            "DROP TRIGGER audit_events_no_delete",
            "DROP TRIGGER audit_checkpoints_no_update",
            "DROP TRIGGER audit_checkpoints_no_delete",
        )
    else:
        _raw(
            platform,
            "DROP TRIGGER audit_events_append_only ON audit_events",
            "DROP TRIGGER audit_checkpoints_append_only ON audit_checkpoints",
        )


def _sealed(platform: Platform) -> AuditVerification:
    verdict = verify_audit_log(context_for(platform, ADMIN))
    assert verdict.ok, verdict.first_bad
    return verdict


def _row(platform: Platform, seq: int) -> dict[str, object]:
    with platform.db.engine.connect() as connection:
        found = connection.execute(
            sa.text("SELECT * FROM audit_events WHERE seq = :seq"), {"seq": seq}
        ).mappings()
        return dict(found.one())


def _renumber(platform: Platform, above: int, by: int) -> None:
    """Shift every seq above ``above`` by ``by``, around the unique index, in two steps."""
    _raw(
        platform,
        "UPDATE audit_events SET seq = -seq WHERE seq > :above",
        "UPDATE audit_events SET seq = -seq + :by WHERE seq < 0",
        above=above,
        by=by,
    )


def _edit(platform: Platform) -> None:
    _raw(platform, "UPDATE audit_events SET principal = 'mallory' WHERE seq = 5")


def _delete(platform: Platform) -> None:
    _raw(platform, "DELETE FROM audit_events WHERE seq = 5")


def _insert(platform: Platform) -> None:
    """A forged event at seq 5, hashed exactly as the sealer would, the rest moved up."""
    fourth = _row(platform, 4)
    _renumber(platform, 4, 1)
    time = utcnow()
    forged = {
        "id": 900_000,
        "time": canonical_time(time),
        "principal": "alice",
        "action": "iam:AttachPolicy",
        "resource": "sy:principal/mallory",
        "outcome": "succeeded",
        "request_id": "forged",
        "detail": {},
    }
    digest = event_hash(seq=5, prev_hash=str(fourth["hash"]), **forged)  # type: ignore[arg-type]
    row = forged | {"time": time, "seq": 5, "prev_hash": fourth["hash"], "hash": digest}
    with platform.db.engine.begin() as connection:
        connection.execute(sa.insert(t.AuditEvent.__table__), row)


def _swap(platform: Platform) -> None:
    _raw(
        platform,
        "UPDATE audit_events SET seq = -1 WHERE seq = 5",
        "UPDATE audit_events SET seq = 5 WHERE seq = 6",
        "UPDATE audit_events SET seq = 6 WHERE seq = -1",
    )


def _truncate(platform: Platform) -> None:
    _raw(platform, "DELETE FROM audit_events WHERE seq >= 9")


TAMPERING: dict[str, tuple[Callable[[Platform], None], int, str]] = {
    "edit": (_edit, 5, "was edited"),
    "delete": (_delete, 5, "seq 5 was missing"),
    "insert": (_insert, 5, "were inserted"),
    "swap": (_swap, 5, "does not follow seq 4"),
    "truncate": (_truncate, 9, "seqs 9..10 were deleted"),
}


def test_tampering_is_caught_at_the_first_bad_event(platform: Platform) -> None:
    """Each attack on a fresh log of ten sealed events (the table emptied in between)."""
    _drop_triggers(platform)
    for attack, (tamper, seq, words) in TAMPERING.items():
        _raw(platform, "DELETE FROM audit_events", "DELETE FROM audit_checkpoints")
        _seed(platform, 10)
        _sealed(platform)
        before = {n: _row(platform, n)["id"] for n in (5, 6)}
        tamper(platform)
        verdict = verify_audit_log(context_for(platform, ADMIN))
        assert not verdict.ok and verdict.first_bad is not None, attack
        assert verdict.first_bad.seq == seq, (attack, verdict.first_bad)
        assert words in verdict.first_bad.problem, (attack, verdict.first_bad)
        assert verdict.events == seq - 1, attack
        expected_id = {"edit": before[5], "insert": 900_000, "swap": before[6]}
        if attack in expected_id:
            assert verdict.first_bad.event_id == expected_id[attack], attack


def _rehash_after(platform: Platform, seq: int) -> None:
    """Recompute every hash after ``seq`` as the sealer would: a consistent forged chain."""
    with platform.db.session() as session:
        events = session.scalars(
            sa.select(t.AuditEvent).where(t.AuditEvent.seq >= seq).order_by(t.AuditEvent.seq)
        ).all()
    prev = str(events[0].hash)
    for e in events[1:]:
        prev = event_hash(
            seq=int(e.seq or 0),
            id=e.id,
            time=canonical_time(e.time),
            principal=e.principal,
            action=e.action,
            resource=e.resource,
            outcome=e.outcome,
            request_id=e.request_id,
            detail=e.detail,
            prev_hash=prev,
        )
        _raw(platform, "UPDATE audit_events SET hash = :h WHERE seq = :s", h=prev, s=e.seq)
        _raw(platform, "UPDATE audit_events SET prev_hash = :h WHERE seq = :s", h=prev, s=e.seq + 1)


def test_a_rewritten_chain_is_caught_by_its_signed_checkpoint(platform: Platform) -> None:
    """An attacker who edits an event and rehashes everything after it still cannot sign."""
    _drop_triggers(platform)
    _seed(platform, 6)
    _sealed(platform)  # a checkpoint at seq 6
    _seed(platform, 4, who="bob")
    _sealed(platform)  # and at seq 10
    _raw(platform, "UPDATE audit_events SET principal = 'mallory' WHERE seq = 8")
    _rehash_after(platform, 7)
    verdict = verify_audit_log(context_for(platform, ADMIN))
    assert verdict.first_bad is not None and not verdict.ok
    assert verdict.first_bad.seq == 7  # the first event after the last checkpoint that holds
    assert "events after seq 6 were rewritten" in verdict.first_bad.problem


def _add_checkpoint(
    platform: Platform,
    seq: int,
    digest: str,
    key: str,
    signature: bytes,
    time: datetime | None = None,
) -> None:
    row = {"seq": seq, "hash": digest, "time": time or utcnow(), "key_id": key}
    with platform.db.engine.begin() as connection:
        connection.execute(
            sa.insert(t.AuditCheckpoint.__table__), row | {"signature": signature.decode()}
        )


def test_forged_checkpoints_are_caught(platform: Platform) -> None:
    """One signed by another key (an attacker's own), then one whose signature is made up."""
    _seed(platform, 5)
    last = _sealed(platform).last_checkpoint
    assert last is not None and last.seq == 5
    mallory = Ed25519PrivateKey.generate()
    digest, time = str(_row(platform, 4)["hash"]), utcnow()
    signature = mallory.sign(checkpoint_message(4, digest, canonical_time(time)))
    mallory_id = key_id(mallory.public_key())
    _add_checkpoint(platform, 4, digest, mallory_id, base64.b64encode(signature), time)
    verdict = verify_audit_log(context_for(platform, ADMIN))
    assert not verdict.ok and verdict.first_bad is not None
    assert verdict.first_bad.seq == 4 and "names key" in verdict.first_bad.problem
    # this server's key id, a signature it never made: the earlier one is named first
    digest = str(_row(platform, 3)["hash"])
    _add_checkpoint(platform, 3, digest, last.key_id, base64.b64encode(bytes(64)))
    verdict = verify_audit_log(context_for(platform, ADMIN))
    assert verdict.first_bad is not None and verdict.first_bad.seq == 3
    assert "signature does not verify" in verdict.first_bad.problem


def test_the_triggers_let_an_event_be_sealed_once_and_nothing_else(platform: Platform) -> None:
    _seed(platform, 2)
    with pytest.raises(sa.exc.DatabaseError):  # unsealed, but its content changes
        _raw(
            platform, "UPDATE audit_events SET outcome = 'x', seq = 99, hash = 'h', prev_hash = 'p'"
        )
    _sealed(platform)
    for statement in (
        "UPDATE audit_events SET seq = seq + 100",
        "DELETE FROM audit_events",
        "UPDATE audit_checkpoints SET hash = 'x'",
        "DELETE FROM audit_checkpoints",
    ):
        with pytest.raises(sa.exc.DatabaseError):
            _raw(platform, statement)
    _sealed(platform)


def test_unsealed_events_are_reported_then_sealed(platform: Platform) -> None:
    before = _sealed(platform).events
    record_event(
        platform.db,
        principal="alice",
        action="tracking:LogMetric",
        resource="sy:run/r",
        outcome="succeeded",
        request_id="q",
    )
    pending = check_audit_log(platform)
    assert pending.ok and pending.unsealed == 1 and pending.events == before
    verdict = _sealed(platform)
    assert verdict.unsealed == 0 and verdict.events == before + 1
    assert verdict.last_checkpoint is not None and verdict.last_checkpoint.seq == before + 1
    key = Path(platform.settings.home) / "keys" / "audit-signing.key"
    assert key.stat().st_mode & 0o777 == 0o600


def test_export_verifies_offline_and_shows_tampering(platform: Platform, tmp_path: Path) -> None:
    _seed(platform, 7)
    admin = context_for(platform, ADMIN)
    out, after, first = tmp_path / "export", 0, True
    while True:  # pages of three, as the SDK pages (by 5000)
        page = export_audit_log(admin, after_seq=after, limit=3)
        write_export_page(out, page, first=first)
        if page.next_seq is None:
            break
        after, first = page.next_seq, False
    verdict = verify_export(out)
    assert verdict.ok and verdict.events == _sealed(platform).events
    assert verdict.checkpoints >= 1
    other = tmp_path / "other.pub"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    assert "names key" in str(verify_export(out, other).first_bad)
    lines = (out / "events.jsonl").read_text().splitlines()
    event = json.loads(lines[2])
    event["outcome"] = "denied"
    lines[2] = json.dumps(event)
    (out / "events.jsonl").write_text("\n".join(lines) + "\n")
    broken = verify_export(out)
    assert broken.first_bad is not None and broken.first_bad.seq == 3
    assert "was edited" in broken.first_bad.problem
    with pytest.raises(InvalidInput, match="limit"):
        export_audit_log(admin, limit=0)


def test_concurrent_writers_make_one_contiguous_chain(platform: Platform) -> None:
    """Eight writers and two sealers at once: every event sealed once, seqs 1..N, no gap."""
    done = threading.Event()
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            for i in range(15):
                record_event(
                    platform.db,
                    principal=f"w{number}",
                    action="tracking:LogMetric",
                    resource=f"sy:run/{i}",
                    outcome="succeeded",
                    request_id=f"{number}-{i}",
                )
        except BaseException as error:
            failures.append(error)

    def sealer() -> None:
        try:
            while not done.is_set():
                seal_audit_log(platform)
        except BaseException as error:
            failures.append(error)

    sealers = [threading.Thread(target=sealer) for _ in range(2)]
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in sealers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    for thread in sealers:
        thread.join()
    assert not failures
    verdict = _sealed(platform)
    with platform.db.engine.connect() as connection:
        seqs = connection.execute(sa.text("SELECT seq FROM audit_events ORDER BY seq")).scalars()
        assert list(seqs) == list(range(1, verdict.events + 1))
        writes = connection.execute(
            sa.text("SELECT count(*) FROM audit_events WHERE principal LIKE 'w%'")
        ).scalar()
    assert writes == 120 and verdict.unsealed == 0


def test_cli_verify_and_export_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    STATE.url, STATE.api_key = None, None
    STATE._settings, STATE._client = Settings(home=tmp_path / "home"), None

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    try:
        assert invoke("principals", "create", "carol")[0] == 0
        assert invoke("principals", "create", "dave")[0] == 0
        code, out, err = invoke("audit", "verify")
        assert code == 0, err
        assert "audit log OK: 2 events, " in out and "0 not yet sealed" in out
        code, out, err = invoke("audit", "export", "--out", str(tmp_path / "x"))
        assert code == 0 and "audit log OK" in out, err
        code, out, _ = invoke("audit", "verify", "--from", str(tmp_path / "x"), "--json")
        assert code == 0 and json.loads(out)["ok"] is True
        # an auditor's flow: the public key fetched apart from the export, then an offline check
        code, pem, err = invoke("audit", "public-key")
        assert code == 0 and pem.startswith("-----BEGIN PUBLIC KEY-----"), err
        assert pem == (tmp_path / "x" / "audit-signing.pub").read_text()
        held = tmp_path / "held.pem"
        code, out, err = invoke("audit", "public-key", "--out", str(held))
        assert code == 0 and held.read_text() == pem, err
        exported = ("audit", "verify", "--export", str(tmp_path / "x"), "--json")
        code, out, _ = invoke(*exported, "--public-key", str(held))
        assert code == 0 and json.loads(out)["ok"] is True
        stranger = tmp_path / "stranger.pem"
        stranger.write_bytes(
            Ed25519PrivateKey.generate()
            .public_key()
            .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        )
        code, out, _ = invoke(*exported, "--public-key", str(stranger))
        assert code == 1 and json.loads(out)["ok"] is False
        code, _, err = invoke("audit", "verify", "--public-key", "k.pem")
        assert code == 1 and "--public-key needs --from" in err
        code, _, err = invoke("audit", "verify", "--from", str(tmp_path / "missing"))
        assert code == 1 and "is not a directory" in err
        assert STATE._client is not None
        platform = STATE._client.transport.platform  # type: ignore[attr-defined]
        _drop_triggers(platform)
        _raw(platform, "DELETE FROM audit_events WHERE seq = 1")
        code, out, err = invoke("audit", "verify")
        assert code == 1
        assert "audit log BROKEN at seq 1: seq 1 was missing" in err
    finally:
        if STATE._client is not None:
            STATE._client.close()
        STATE._settings, STATE._client = None, None


def _migrate(db: Database, action: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def test_events_stored_before_the_migration_are_sealed_by_the_first_sealing(
    empty_metadata_url: str, tmp_path: Path
) -> None:
    """Migration 0136 on a store with events; then its downgrade restores the old triggers."""
    metadata_url = empty_metadata_url
    (tmp_path / "home").mkdir(exist_ok=True)
    db = Database(metadata_url)
    try:
        _migrate(db, "upgrade", "0135_model_approvals")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO audit_events (time, principal, action, resource, outcome,"
                    " request_id, detail) VALUES (:time, :principal, :action, :resource,"
                    " :outcome, :request_id, :detail)"
                ),
                [
                    {
                        "time": f"2026-01-01 00:00:0{i}",
                        "principal": "old",
                        "action": "datasets:Ingest",
                        "resource": f"sy:dataset/{i}",
                        "outcome": "succeeded",
                        "request_id": str(i),
                        "detail": "{}",
                    }
                    for i in range(3)
                ],
            )
        db.upgrade()
        settings = Settings(home=tmp_path / "home", database_url=metadata_url)
        platform = Platform.open(settings)
        try:
            assert seal_audit_log(platform) == 3
            verdict = check_audit_log(platform)
            assert verdict.ok and verdict.events == 3 and verdict.last_checkpoint is not None
        finally:
            platform.close()
        _migrate(db, "downgrade", "0135_model_approvals")
        with pytest.raises(sa.exc.DatabaseError):
            _raw_db(db, "UPDATE audit_events SET outcome = 'x'")
        with pytest.raises(sa.exc.DatabaseError):
            _raw_db(db, "DELETE FROM audit_events")
    finally:
        db.dispose()


def _raw_db(db: Database, statement: str) -> None:
    with db.engine.begin() as connection:
        connection.execute(sa.text(statement))
