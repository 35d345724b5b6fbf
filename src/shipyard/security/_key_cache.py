"""Authorization for the data plane: keys and policies held in memory, kept current cheaply.

The serving path must not touch the metadata database per request, so (reading through a
``KeySource``: the database, or for a supervised serving worker its supervisor's socket):

- every active key's hash and its principal's policies are loaded at start;
- a daemon thread polls the security generation (one tiny query, every
  ``poll_seconds``) and reloads everything when it moves, so a revoked key, a
  detached or replaced policy or a disabled principal stops working on every
  worker within a second; it also reloads every ``refresh_seconds`` regardless;
- a key not in memory (created since the last reload) makes ``authorize`` return
  None; the app then calls ``resolve`` in a worker thread, which looks the key up
  once for every request waiting on it, so a new key works on its first request. Keys
  found missing or inactive are remembered for ``negative_seconds``, and lookups
  are rate-limited (``lookups_per_second``, shared by all unknown keys), so a
  stream of made-up keys costs the database a few queries a second at most.

Enabled service principals and their policies are held too, for requests that come with
a verified client certificate naming one (mutual TLS) instead of a key.

Conditions are evaluated as the control plane evaluates them (the same compiled
conditions, the same keys): ``sy:CurrentTime``/``sy:EpochTime``/``sy:PrincipalName``,
``sy:SourceIp`` and ``sy:SecureTransport`` from the request's ``Transport``, the
principal's tags and the endpoint's tags (``sy:ResourceTag/*``, every ``sy:endpoint/...``
resource's tags are held). Tag and policy changes bump the security generation, so they
land within ``poll_seconds``; anything else within ``refresh_seconds``. A key whose
policies have no Condition has its decisions memoised; a conditional one is decided per
request, from memory.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from shipyard.clock import utcnow
from shipyard.errors import AccessDenied, Unauthenticated
from shipyard.platform import Platform
from shipyard.security._certificate_auth import NOT_MAPPED
from shipyard.security._certificates import revocation_message
from shipyard.security._conditions import NO_TRANSPORT, Transport
from shipyard.security._key_source import CachedKey, DatabaseKeySource, KeySource, ResourceTags
from shipyard.security._key_use import KeyUse
from shipyard.security._keys import parse_bearer, secret_matches

_NEGATIVE_LIMIT = 10_000


@dataclass
class _Lookup:
    """One key's lookup in flight; requests with the same key wait for it."""

    done: threading.Event = field(default_factory=threading.Event)
    found: CachedKey | None = None


class _TokenBucket:
    """At most ``rate`` takes a second on average, bursts up to ``rate`` (one thread only)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


class CachedKeyAuthorizer:
    """Checks ``Authorization`` headers against an in-memory copy of keys and policies."""

    def __init__(
        self,
        source: Platform | KeySource,
        *,
        refresh_seconds: float = 5.0,
        poll_seconds: float = 0.2,
        negative_seconds: float = 1.0,
        lookups_per_second: float = 20.0,
    ) -> None:
        self._source = DatabaseKeySource(source) if isinstance(source, Platform) else source
        self._refresh_seconds = refresh_seconds
        self._poll_seconds = poll_seconds
        self._negative_seconds = negative_seconds
        self._keys: dict[str, CachedKey] = {}
        self._services: dict[str, CachedKey] = {}
        self._revoked: dict[str, str] = {}
        self._resource_tags: ResourceTags = {}
        self._decisions: dict[tuple[str, str, str], bool] = {}
        self._unknown: dict[str, float] = {}
        self._generation = -1
        self._loaded_at = 0.0
        self._bucket = _TokenBucket(lookups_per_second)
        self._lock = threading.Lock()
        self._lookups: dict[str, _Lookup] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lookups = 0
        self.reloads = 0
        self.key_use = KeyUse(self._source.record_use)
        """Keys' last use, written by the watching thread (never by a request)."""
        self.reload()

    def reload(self) -> None:
        """Take a fresh copy of the active keys and their principals' policies."""
        snapshot = self._source.snapshot()
        with self._lock:
            self._keys = dict(snapshot.keys)
            self._services = dict(snapshot.services)
            self._revoked = dict(snapshot.revoked)
            self._resource_tags = snapshot.resource_tags
            self._decisions = {}
            self._generation = snapshot.generation
            self._loaded_at = time.monotonic()
            self.reloads += 1

    def start(self) -> None:
        """Begin watching for changes in a daemon thread."""
        if self._thread is None and self._poll_seconds > 0:
            self._thread = threading.Thread(target=self._loop, name="key-cache", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop watching and wait for the thread to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.key_use.flush()

    def _loop(self) -> None:
        while not self._stop.wait(self._poll_seconds):
            self.key_use.flush()
            try:
                self._check()
            except Exception:  # noqa: S112 - keep serving with the last good copy
                continue

    def _check(self) -> None:
        """Reload when the security generation moved, or the copy is ``refresh_seconds`` old."""
        stale = (
            self._refresh_seconds > 0
            and time.monotonic() - self._loaded_at >= self._refresh_seconds
        )
        if not stale:
            stale = self._source.generation() != self._generation
        if stale:
            self.reload()

    def authorize(
        self,
        authorization: str | None,
        action: str,
        resource: str,
        transport: Transport = NO_TRANSPORT,
    ) -> str | None:
        """The principal's name, or raise Unauthenticated / AccessDenied, from memory.

        None for a key it has not seen: ``resolve`` looks it up. A key just found not
        to be valid, or any unseen key once the lookup budget is spent, is refused here.
        """
        key_id, secret = parse_bearer(authorization)
        cached = self._keys.get(key_id)
        if cached is None:
            if not self._may_look_up(key_id):
                raise Unauthenticated("API key is not valid")
            return None
        return self._decide(cached, key_id, secret, action, resource, transport)

    def _decide(
        self,
        cached: CachedKey,
        key_id: str,
        secret: str,
        action: str,
        resource: str,
        transport: Transport,
    ) -> str:
        if not secret_matches(secret, cached.secret_hash):
            raise Unauthenticated("API key is not valid")
        if cached.expires_at is not None and cached.expires_at <= utcnow():
            raise Unauthenticated("API key is not valid")
        self.key_use.note(key_id)
        memo = (key_id, action, resource)
        allowed = self._decisions.get(memo)
        if allowed is None:
            allowed = cached.decide(action, resource, transport, self._resource_tags)
            if not cached.conditional:  # a condition may see the time: decide each time
                self._decisions[memo] = allowed
        if not allowed:
            raise AccessDenied(
                f"{cached.principal} is not allowed to {action} on {resource}",
                principal=cached.principal,
            )
        return cached.principal

    def authorize_certificate(
        self,
        principal: str | None,
        action: str,
        resource: str,
        serial: str | None = None,
        transport: Transport = NO_TRANSPORT,
    ) -> str:
        """The service principal a verified client certificate names, if it may act, from
        memory; Unauthenticated when it names none that is enabled (a principal created
        since the last reload counts from the next one) or the certificate was revoked."""
        reason = self._revoked.get(serial) if serial else None
        if serial is not None and reason is not None:
            raise Unauthenticated(revocation_message(serial, reason))
        service = self._services.get(principal) if principal else None
        if principal is None or service is None:
            raise Unauthenticated(NOT_MAPPED)
        memo = ("principal/" + principal, action, resource)
        allowed = self._decisions.get(memo)
        if allowed is None:
            allowed = service.decide(action, resource, transport, self._resource_tags)
            if not service.conditional:
                self._decisions[memo] = allowed
        if not allowed:
            raise AccessDenied(
                f"{principal} is not allowed to {action} on {resource}", principal=principal
            )
        return principal

    def _may_look_up(self, key_id: str) -> bool:
        """On the event loop: whether a lookup of an unseen key is allowed now."""
        until = self._unknown.get(key_id)
        if until is not None and until > time.monotonic():
            return False
        return key_id in self._lookups or self._bucket.take()

    def resolve(
        self,
        authorization: str | None,
        action: str,
        resource: str,
        transport: Transport = NO_TRANSPORT,
    ) -> str:
        """Off the event loop: look the key up (once for all requests waiting on it), decide."""
        key_id, secret = parse_bearer(authorization)
        cached = self._keys.get(key_id)
        if cached is not None:
            return self._decide(cached, key_id, secret, action, resource, transport)
        with self._lock:
            lookup = self._lookups.get(key_id)
            owner = lookup is None
            if lookup is None:
                lookup = self._lookups[key_id] = _Lookup()
        if owner:
            try:
                lookup.found = self._look_up(key_id)
            finally:
                with self._lock:
                    del self._lookups[key_id]
                lookup.done.set()
        else:
            lookup.done.wait(timeout=10)
        if lookup.found is None:
            raise Unauthenticated("API key is not valid")
        return self._decide(lookup.found, key_id, secret, action, resource, transport)

    def _look_up(self, key_id: str) -> CachedKey | None:
        """Read one key from the source and remember the answer, unless a reload overtook it."""
        generation, found = self._source.look_up(key_id)
        with self._lock:
            self.lookups += 1
            if generation == self._generation:
                if found is not None:
                    self._keys[key_id] = found
                else:
                    if len(self._unknown) >= _NEGATIVE_LIMIT:
                        self._unknown.clear()
                    self._unknown[key_id] = time.monotonic() + self._negative_seconds
        return found
