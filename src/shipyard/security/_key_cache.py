"""Authorization for the data plane: keys and policies held in memory, refreshed in the background.

The serving path must not touch the metadata database per request, so the
cache loads every active key's hash and its principal's policies, and a
daemon thread reloads them every ``refresh_seconds``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import sqlalchemy as sa

from shipyard.errors import AccessDenied, Unauthenticated
from shipyard.platform import Platform
from shipyard.security._keys import parse_bearer, secret_matches
from shipyard.security._policy import Decision, PolicyDocument, evaluate
from shipyard.store.metadata import tables as t


@dataclass(frozen=True)
class _CachedKey:
    secret_hash: str
    principal: str
    policies: tuple[PolicyDocument, ...]


class CachedKeyAuthorizer:
    """Checks ``Authorization`` headers against an in-memory copy of keys and policies."""

    def __init__(self, platform: Platform, *, refresh_seconds: float = 5.0) -> None:
        self._platform = platform
        self._refresh_seconds = refresh_seconds
        self._keys: dict[str, _CachedKey] = {}
        self._decisions: dict[tuple[str, str, str], bool] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reload()

    def reload(self) -> None:
        """Read the active keys and their principals' policies from the metadata store."""
        with self._platform.db.session() as session:
            rows = session.execute(
                sa.select(t.ApiKey.key_id, t.ApiKey.secret_hash, t.Principal.id, t.Principal.name)
                .join(t.Principal, t.Principal.id == t.ApiKey.principal_id)
                .where(t.ApiKey.revoked_at.is_(None), t.Principal.disabled.is_(False))
            ).all()
            links = session.execute(
                sa.select(t.PrincipalPolicy.principal_id, t.Policy.document).join(
                    t.Policy, t.Policy.id == t.PrincipalPolicy.policy_id
                )
            ).all()
        policies: dict[int, list[PolicyDocument]] = {}
        for principal_id, document in links:
            policies.setdefault(principal_id, []).append(PolicyDocument.model_validate(document))
        self._keys = {
            key_id: _CachedKey(secret_hash, name, tuple(policies.get(principal_id, ())))
            for key_id, secret_hash, principal_id, name in rows
        }
        self._decisions = {}

    def start(self) -> None:
        """Begin refreshing in a daemon thread."""
        if self._thread is None and self._refresh_seconds > 0:
            self._thread = threading.Thread(target=self._loop, name="key-cache", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop refreshing and wait for the refresh thread to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self._refresh_seconds):
            try:
                self.reload()
            except Exception:  # noqa: S112 - keep serving with the last good copy
                continue

    def authorize(self, authorization: str | None, action: str, resource: str) -> str:
        """Return the principal's name, or raise Unauthenticated / AccessDenied."""
        key_id, secret = parse_bearer(authorization)
        cached = self._keys.get(key_id)
        if cached is None or not secret_matches(secret, cached.secret_hash):
            raise Unauthenticated("API key is not valid")
        memo = (key_id, action, resource)
        allowed = self._decisions.get(memo)
        if allowed is None:
            allowed = evaluate(cached.policies, action, resource) is Decision.ALLOW
            self._decisions[memo] = allowed
        if not allowed:
            raise AccessDenied(f"{cached.principal} is not allowed to {action} on {resource}")
        return cached.principal
