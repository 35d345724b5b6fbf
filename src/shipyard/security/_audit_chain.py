"""Sealing the audit log into a hash chain, signing checkpoints, and verifying or exporting it.

Events are written unsealed, in their callers' transactions, so writers never wait on a
shared head. A sealer (the server's loop, or any verify or export) takes the chain's lock
(a PostgreSQL advisory lock; SQLite's write lock), gives the committed unsealed events, in
id order, the next ``seq`` and their ``prev_hash`` and ``hash``, and signs a checkpoint of
the new head with the Ed25519 key at ``<home>/keys/audit-signing.key`` (created on first
use, mode 0600; servers sharing a database must share it). The key lives outside the
database, so whoever can write the database cannot sign a rewritten chain.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import threading
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)
from sqlalchemy.orm import Session

from shipyard.audit import (
    GENESIS,
    ChainVerifier,
    canonical_time,
    checkpoint_message,
    event_hash,
    key_id,
)
from shipyard.clock import utcnow
from shipyard.config import Settings
from shipyard.errors import IntegrityError, InvalidInput
from shipyard.names import resource
from shipyard.platform import Platform
from shipyard.schemas.security import (
    AuditChainEvent,
    AuditCheckpointInfo,
    AuditExportPage,
    AuditPublicKey,
    AuditVerification,
)
from shipyard.security._context import RequestContext
from shipyard.security._operation import operation
from shipyard.store.metadata import tables as t

log = logging.getLogger("shipyard.audit")

SEAL_BATCH = 1000
"""Events sealed per transaction (each ends with a checkpoint); small, so a backlog (a store
migrated with many events) holds SQLite's write lock only briefly at a time."""

_E = t.AuditEvent
_CONTENT = (_E.id, _E.time, _E.principal, _E.action, _E.resource, _E.outcome, _E.request_id)


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The checkpoint signing key, made on first use (written whole, then linked in place,
    so a process racing to make it reads either no file or the whole key)."""
    path = settings.home / "keys" / "audit-signing.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
        draft = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    try:
        key = load_pem_private_key(Path(path).read_bytes(), password=None)
    except ValueError:
        raise IntegrityError(f"{path} is not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise IntegrityError(f"{path} is not an Ed25519 private key")
    return key


def public_key_pem(settings: Settings) -> str:
    """The checkpoints' public key, PEM, for auditors."""
    public = signing_key(settings).public_key()
    return public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def _lock(session: Session, sqlite: bool) -> None:
    """Hold the chain's lock until the transaction ends."""
    if sqlite:  # any write takes SQLite's one write lock; this one changes no row
        session.execute(sa.text("UPDATE audit_checkpoints SET seq = seq WHERE 0"))
    else:
        name = sa.literal("shipyard.audit.seal:") + sa.func.current_schema()
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(name))))


def seal_audit_log(platform: Platform) -> int:
    """Chain every committed unsealed event and sign a checkpoint; how many were sealed."""
    total = 0
    key = signing_key(platform.settings)
    while True:
        with platform.db.session() as session:
            _lock(session, platform.db.is_sqlite)
            head = session.execute(
                sa.select(_E.seq, _E.hash)
                .where(_E.seq.is_not(None))
                .order_by(_E.seq.desc())
                .limit(1)
            ).first()
            seq, prev = (int(head[0] or 0), str(head[1])) if head else (0, GENESIS)
            rows = session.execute(
                sa.select(*_CONTENT, _E.detail)
                .where(_E.seq.is_(None))
                .order_by(_E.id)
                .limit(SEAL_BATCH)
            ).all()
            if not rows:
                return total
            sealed = []
            for row in rows:
                seq += 1
                fields = dict(row._mapping) | {"time": canonical_time(row.time)}
                digest = event_hash(seq=seq, prev_hash=prev, **fields)
                sealed.append({"id": row.id, "seq": seq, "prev_hash": prev, "hash": digest})
                prev = digest
            session.execute(sa.update(t.AuditEvent), sealed)
            now = utcnow()
            signature = key.sign(checkpoint_message(seq, prev, canonical_time(now)))
            session.add(
                t.AuditCheckpoint(
                    seq=seq,
                    hash=prev,
                    time=now,
                    key_id=key_id(key.public_key()),
                    signature=base64.b64encode(signature).decode(),
                )
            )
            total += len(rows)


def _chain_event(row: sa.Row[tuple[object, ...]]) -> AuditChainEvent:
    """An event as the database holds it (its types are the columns', so not validated)."""
    fields = dict(row._mapping) | {"time": canonical_time(row.time), "detail": row.detail or {}}
    return AuditChainEvent.model_construct(**fields)


def _checkpoint(row: t.AuditCheckpoint) -> AuditCheckpointInfo:
    return AuditCheckpointInfo(
        seq=row.seq,
        hash=row.hash,
        time=canonical_time(row.time),
        key_id=row.key_id,
        signature=row.signature,
    )


_CHAIN = (_E.seq, *_CONTENT, _E.detail, _E.prev_hash, _E.hash)


def check_audit_log(platform: Platform) -> AuditVerification:
    """Recompute the whole chain and check every checkpoint against this server's key."""
    public = signing_key(platform.settings).public_key()
    with platform.db.session() as session:
        checkpoints = [_checkpoint(c) for c in session.scalars(sa.select(t.AuditCheckpoint))]
        verifier = ChainVerifier(checkpoints, public)
        query = sa.select(*_CHAIN).where(_E.seq.is_not(None)).order_by(_E.seq, _E.id)
        for row in session.execute(query.execution_options(yield_per=2000)):
            if not verifier.feed(_chain_event(row)):
                break
        unsealed = session.scalar(sa.select(sa.func.count()).where(_E.seq.is_(None)))
    return verifier.finish(unsealed=int(unsealed or 0))


@operation("audit:VerifyLog", lambda: resource("audit"), mutating=False)
def verify_audit_log(ctx: RequestContext) -> AuditVerification:
    """Seal what is pending, then recompute the chain and check every signed checkpoint:
    the verdict names the first edited, deleted, inserted or reordered event."""
    seal_audit_log(ctx.platform)
    return check_audit_log(ctx.platform)


@operation("audit:GetPublicKey", lambda: resource("audit"), mutating=False)
def audit_public_key(ctx: RequestContext) -> AuditPublicKey:
    """The checkpoint-signing public key (PEM) and its fingerprint, for offline checks."""
    public = signing_key(ctx.platform.settings).public_key()
    return AuditPublicKey(public_key=public_key_pem(ctx.platform.settings), key_id=key_id(public))


@operation("audit:ExportLog", lambda: resource("audit"), mutating=False)
def export_audit_log(ctx: RequestContext, after_seq: int = 0, limit: int = 5000) -> AuditExportPage:
    """A page of the sealed log after ``after_seq`` (sealing what is pending on the first
    page), the checkpoints up to its last event (on the last page: all the rest) and the
    public key to check them with."""
    if after_seq < 0:
        raise InvalidInput("must be 0 or more", field="after_seq")
    if not 1 <= limit <= 10_000:
        raise InvalidInput("must be between 1 and 10000", field="limit")
    if after_seq == 0:
        seal_audit_log(ctx.platform)
    with ctx.platform.db.session() as session:
        query = sa.select(*_CHAIN).where(_E.seq > after_seq).order_by(_E.seq, _E.id).limit(limit)
        events = [_chain_event(row) for row in session.execute(query)]
        more = len(events) == limit
        covered = sa.select(t.AuditCheckpoint).where(t.AuditCheckpoint.seq > after_seq)
        if more:
            covered = covered.where(t.AuditCheckpoint.seq <= events[-1].seq)
        found = session.scalars(covered.order_by(t.AuditCheckpoint.id))
        checkpoints = [_checkpoint(c) for c in found]
    return AuditExportPage(
        events=events,
        checkpoints=checkpoints,
        public_key=public_key_pem(ctx.platform.settings),
        next_seq=events[-1].seq if more else None,
    )


class AuditSealer:
    """Seals the audit log every ``period`` seconds in a thread, until ``stop``."""

    def __init__(self, platform: Platform, period: float) -> None:
        self.platform = platform
        self.period = period
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-sealer", daemon=True)

    def start(self) -> AuditSealer:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopped.wait(self.period):
            try:
                seal_audit_log(self.platform)
            except Exception:  # a database hiccup: the next round seals what this one missed
                log.warning("sealing the audit log failed", exc_info=True)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=30)
