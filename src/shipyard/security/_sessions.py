"""Console sessions: an API key exchanged for a cookie, checked on every request.

The browser holds two random tokens: the session token (an HttpOnly cookie) and a CSRF
token (readable by the page, echoed in ``X-CSRF-Token`` on unsafe requests). The database
holds only their SHA-256 hashes, so a leaked table logs nobody in. Each request joins the
session to its key and principal, so a revoked key, a disabled principal or a removed
one ends the session at once, and its policies are read fresh as a bearer key's are.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from shipyard.clock import utcnow
from shipyard.errors import AccessDenied, Unauthenticated
from shipyard.platform import Platform
from shipyard.security._context import RequestContext
from shipyard.security._iam import _boundary_of, _policies_of, _tags_if_tested, valid_key
from shipyard.security._keys import hash_secret, parse_token
from shipyard.store.metadata import console_tables as ct
from shipyard.store.metadata import tables as t


@dataclass(frozen=True)
class IssuedSession:
    """A new login: the two tokens go to the browser once; only their hashes are stored."""

    token: str
    csrf_token: str
    principal: str
    expires_at: datetime


@dataclass(frozen=True)
class SessionState:
    """Who a session cookie belongs to now, and the hash its CSRF header must match."""

    principal: str
    expires_at: datetime
    csrf_hash: str


def open_session(platform: Platform, key_token: str) -> IssuedSession:
    """Check an API key and start a session for its principal, or raise Unauthenticated."""
    key_id, secret = parse_token(key_token.strip())
    now = utcnow()
    expires_at = now + timedelta(minutes=platform.settings.console_session_minutes)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with platform.db.session() as session:
        row = valid_key(session, key_id, secret)
        row[0].last_used_at = now  # signing in is a use of the key, as a bearer request is
        session.execute(sa.delete(ct.ConsoleSession).where(ct.ConsoleSession.expires_at <= now))
        session.add(
            ct.ConsoleSession(
                token_hash=hash_secret(token),
                csrf_hash=hash_secret(csrf),
                api_key_id=row[0].id,
                principal_id=row[1].id,
                created_at=now,
                expires_at=expires_at,
            )
        )
        principal = row[1].name
    return IssuedSession(token, csrf, principal, expires_at)


def session_state(platform: Platform, token: str) -> tuple[SessionState, RequestContext]:
    """The live session behind a cookie and a context for its principal, or Unauthenticated."""
    with platform.db.session() as session:
        row = session.execute(
            sa.select(ct.ConsoleSession, t.Principal)
            .join(t.ApiKey, t.ApiKey.id == ct.ConsoleSession.api_key_id)
            .join(t.Principal, t.Principal.id == ct.ConsoleSession.principal_id)
            .where(
                ct.ConsoleSession.token_hash == hash_secret(token),
                ct.ConsoleSession.expires_at > utcnow(),
                t.ApiKey.revoked_at.is_(None),
                sa.or_(t.ApiKey.expires_at.is_(None), t.ApiKey.expires_at > utcnow()),
                t.Principal.disabled.is_(False),
            )
        ).first()
        if row is None:
            raise Unauthenticated("console session is not valid (expired, ended or revoked)")
        found, principal = row
        state = SessionState(principal.name, found.expires_at, found.csrf_hash)
        policies = _policies_of(session, principal.id)
        boundary = _boundary_of(session, principal.id)
        tags = _tags_if_tested(session, principal.id, (*policies, *(boundary or ())))
    ctx = RequestContext(
        platform=platform,
        principal=state.principal,
        policies=policies,
        principal_tags=tags,
        boundary=boundary,
    )
    return state, ctx


def check_csrf(state: SessionState, header: str | None) -> None:
    """Raise AccessDenied unless ``header`` is the session's CSRF token (constant time)."""
    if not header:
        raise AccessDenied("missing X-CSRF-Token header (required with a session cookie)")
    if not hmac.compare_digest(hash_secret(header), state.csrf_hash):
        raise AccessDenied("X-CSRF-Token does not match the session")


def close_session(platform: Platform, token: str) -> None:
    """End a session (no error when it is already gone)."""
    with platform.db.session() as session:
        session.execute(
            sa.delete(ct.ConsoleSession).where(ct.ConsoleSession.token_hash == hash_secret(token))
        )
