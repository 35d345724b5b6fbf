"""API keys: 256 random bits, shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from shipyard.errors import Unauthenticated

_PREFIX = "sy"


@dataclass(frozen=True)
class IssuedKey:
    """A new key: ``key_id`` is public and indexed, ``secret`` is never stored."""

    key_id: str
    secret: str

    @property
    def token(self) -> str:
        return f"{_PREFIX}_{self.key_id}_{self.secret}"

    @property
    def secret_hash(self) -> str:
        return hash_secret(self.secret)


def issue_key() -> IssuedKey:
    """Draw a fresh key from the operating system's CSPRNG."""
    return IssuedKey(key_id=secrets.token_hex(8), secret=secrets.token_urlsafe(32))


def hash_secret(secret: str) -> str:
    """Hash of a key's secret; a plain SHA-256 suffices for 256-bit random secrets."""
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(token: str) -> tuple[str, str]:
    """Split ``sy_<key_id>_<secret>`` into its parts, or raise Unauthenticated."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != _PREFIX or len(key_id) != 16 or len(secret) < 32:
        raise Unauthenticated("malformed API key")
    return key_id, secret


def parse_bearer(authorization: str | None) -> tuple[str, str]:
    """Read the key out of an ``Authorization: Bearer <key>`` header value."""
    if not authorization:
        raise Unauthenticated("missing Authorization header (expected 'Bearer <api key>')")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization header must be 'Bearer <api key>'")
    return parse_token(token.strip())


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented secret against its stored hash."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)
