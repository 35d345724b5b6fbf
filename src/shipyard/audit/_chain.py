"""The chain's arithmetic and its verifier.

Each sealed event's ``hash`` is the SHA-256 of the canonical JSON (sorted keys, no spaces,
UTF-8) of ``[seq, id, time, principal, action, resource, outcome, request_id, detail,
prev_hash]``, where ``time`` is ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC and ``prev_hash`` is
the previous event's hash (64 zeros for seq 1). A checkpoint signs, with Ed25519, the
canonical JSON of ``["shipyard-audit-checkpoint/1", seq, hash, time]``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shipyard.schemas.security import (
    AuditChainEvent,
    AuditCheckpointInfo,
    AuditProblem,
    AuditVerification,
)

GENESIS = "0" * 64
_RECENT = 4096
"""How many recent hashes the verifier keeps to tell an insertion from a reordering."""


def canonical_time(time: datetime) -> str:
    """A UTC time as the chain hashes it (naive times are taken as UTC)."""
    if time.tzinfo is None:
        time = time.replace(tzinfo=UTC)
    elif time.utcoffset():
        time = time.astimezone(UTC)
    return time.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(
    *,
    seq: int,
    id: int,
    time: str,
    principal: str,
    action: str,
    resource: str,
    outcome: str,
    request_id: str,
    detail: dict[str, Any],
    prev_hash: str,
) -> str:
    """The hash of one event at its place in the chain."""
    fields = [seq, id, time, principal, action, resource, outcome, request_id, detail, prev_hash]
    return hashlib.sha256(_canonical(fields)).hexdigest()


def checkpoint_message(seq: int, hash: str, time: str) -> bytes:
    """The bytes a checkpoint's signature covers."""
    return _canonical(["shipyard-audit-checkpoint/1", seq, hash, time])


def key_id(public_key: Ed25519PublicKey) -> str:
    """The SHA-256 fingerprint of a public key's raw bytes."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _span(first: int, last: int) -> str:
    return f"seq {first} was" if first == last else f"seqs {first}..{last} were"


def _recomputed(e: AuditChainEvent) -> str:
    return event_hash(
        seq=e.seq,
        id=e.id,
        time=e.time,
        principal=e.principal,
        action=e.action,
        resource=e.resource,
        outcome=e.outcome,
        request_id=e.request_id,
        detail=e.detail,
        prev_hash=e.prev_hash,
    )


class ChainVerifier:
    """Feed the sealed events in seq order, then ``finish``: the first thing wrong, if any."""

    def __init__(self, checkpoints: list[AuditCheckpointInfo], public_key: Ed25519PublicKey):
        self._key = public_key
        self._key_id = key_id(public_key)
        self._checkpoints = sorted(checkpoints, key=lambda c: c.seq)
        self._bad_signature = next(
            (p for p in map(self._signature_problem, self._checkpoints) if p), None
        )
        self._by_seq: dict[int, list[AuditCheckpointInfo]] = {}
        for checkpoint in self._checkpoints:
            self._by_seq.setdefault(checkpoint.seq, []).append(checkpoint)
        self._expected = 1
        self._prev = GENESIS
        self._recent: OrderedDict[str, tuple[int, int]] = OrderedDict()
        self._ids: OrderedDict[int, int] = OrderedDict()
        self._last_good_checkpoint = 0
        self.problem: AuditProblem | None = None

    def _signature_problem(self, checkpoint: AuditCheckpointInfo) -> AuditProblem | None:
        where = f"the checkpoint of seq {checkpoint.seq} made {checkpoint.time}"
        if checkpoint.key_id != self._key_id:
            problem = f"{where} names key {checkpoint.key_id[:16]}, not {self._key_id[:16]}"
            return AuditProblem(seq=checkpoint.seq, event_id=None, problem=problem)
        try:
            signature = base64.b64decode(checkpoint.signature, validate=True)
            message = checkpoint_message(checkpoint.seq, checkpoint.hash, checkpoint.time)
            self._key.verify(signature, message)
        except (InvalidSignature, ValueError):
            problem = f"{where}: its signature does not verify (forged or altered checkpoint)"
            return AuditProblem(seq=checkpoint.seq, event_id=None, problem=problem)
        return None

    def feed(self, event: AuditChainEvent) -> bool:
        """Check one event; False once the chain is broken (later events are not looked at)."""
        if self.problem is None:
            self.problem = self._check(event)
            if self.problem is None:
                self._advance(event)
        return self.problem is None

    def _check(self, event: AuditChainEvent) -> AuditProblem | None:
        seq, expected, here = event.seq, self._expected, f"seq {event.seq} (id {event.id})"
        if seq > expected:
            problem = f"{_span(expected, seq - 1)} missing: the chain jumps to {here}; deleted"
            return AuditProblem(seq=expected, event_id=None, problem=problem)
        if seq < expected:
            problem = f"{here} appears again after seq {expected - 1}: a forged or copied event"
            return AuditProblem(seq=seq, event_id=event.id, problem=problem)
        if event.prev_hash != self._prev:
            earlier = self._recent.get(event.prev_hash)
            if earlier is not None and earlier[0] < seq - 1:
                first = earlier[0] + 1
                problem = (
                    f"seq {first} (id {self._ids.get(first)}) to seq {seq - 1} were inserted: "
                    f"{here} was sealed right after seq {earlier[0]}"
                )
                return AuditProblem(seq=first, event_id=self._ids.get(first), problem=problem)
            problem = (
                f"{here} does not follow seq {seq - 1}: its prev_hash is not that event's "
                "hash, so events were reordered, inserted or deleted here"
            )
            return AuditProblem(seq=seq, event_id=event.id, problem=problem)
        if _recomputed(event) != event.hash:
            problem = f"{here} was edited: its contents do not match its hash"
            return AuditProblem(seq=seq, event_id=event.id, problem=problem)
        for checkpoint in self._by_seq.get(seq, []):
            if checkpoint.hash != event.hash and self._signature_problem(checkpoint) is None:
                first = self._last_good_checkpoint + 1
                problem = (
                    f"the chain up to {here} differs from the checkpoint signed at "
                    f"{checkpoint.time}: events after seq {first - 1} were rewritten"
                )
                return AuditProblem(seq=first, event_id=self._ids.get(first), problem=problem)
        return None

    def _advance(self, event: AuditChainEvent) -> None:
        if event.seq in self._by_seq:
            self._last_good_checkpoint = event.seq
        self._recent[event.hash] = (event.seq, event.id)
        self._ids[event.seq] = event.id
        if len(self._recent) > _RECENT:
            self._recent.popitem(last=False)
            self._ids.popitem(last=False)
        self._expected, self._prev = event.seq + 1, event.hash

    def finish(self, unsealed: int = 0) -> AuditVerification:
        """The verdict; a checkpoint beyond the last event means the tail was deleted."""
        last = self._expected - 1
        problem = self.problem
        if problem is None:
            beyond = [c for c in self._checkpoints if c.seq > last]
            if beyond:
                c = beyond[-1]
                problem = AuditProblem(
                    seq=last + 1,
                    event_id=None,
                    problem=f"the log ends at seq {last} but the checkpoint made {c.time} "
                    f"covers seq {c.seq}: {_span(last + 1, c.seq)} deleted",
                )
        bad = self._bad_signature
        if bad is not None and (problem is None or bad.seq < problem.seq):
            problem = bad
        intact = last if problem is None else min(last, problem.seq - 1)
        good = [c for c in self._checkpoints if c.seq <= intact]
        return AuditVerification(
            ok=problem is None,
            events=intact,
            unsealed=unsealed,
            checkpoints=len(self._checkpoints),
            last_checkpoint=good[-1] if good else None,
            first_bad=problem,
            key_id=self._key_id,
        )
