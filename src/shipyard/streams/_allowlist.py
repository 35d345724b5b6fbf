"""Which broker URLs the server may connect to on a caller's behalf.

A stream's source URL comes from whoever creates the stream, and the server connects
to it, so it is checked against the settings' allowlist at creation and again before
every connection (a stream stored under an older, wider allowlist is refused later):

- The scheme must be one the source supports (Redis: ``redis``, ``rediss``, ``unix``;
  NATS: ``nats``, ``tls``, ``ws``, ``wss``) and be listed in ``allowed_source_schemes``
  (default ``redis``, ``rediss``, ``nats``, ``tls``). A ``unix://`` socket has no host:
  listing ``unix`` allows every socket path.
- Every other URL names a host. An IP literal is allowed when it equals a listed address
  or falls in a listed CIDR network (an IPv4-mapped IPv6 address counts as its IPv4
  address). A hostname is allowed only when listed literally, ignoring case; nothing is
  resolved, because a name that resolves to an allowed address now could resolve
  elsewhere by the time the client connects. Percent-encoded hosts are refused.
- Query strings and fragments are refused: Redis reads connection options from the
  query string, the host among them.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from shipyard._hosts import host_allowed
from shipyard.config import Settings
from shipyard.schemas.streams import HttpSource, NatsSource, RedisSource, redact_url

SUPPORTED_SCHEMES = {
    "redis": ("redis", "rediss", "unix"),
    "nats": ("nats", "tls", "ws", "wss"),
}


def source_url_problem(
    settings: Settings, source: HttpSource | RedisSource | NatsSource
) -> str | None:
    """Why the server may not connect to ``source``'s URL, or None when it may."""
    if isinstance(source, HttpSource):
        return None
    url = source.url
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in range
    except ValueError as error:
        return f"{shown!r} is not a valid URL: {error}"
    scheme = parts.scheme.lower()
    allowed_schemes = {s.lower() for s in settings.allowed_source_schemes}
    supported = SUPPORTED_SCHEMES[source.kind]
    if scheme not in supported:
        return f"a {source.kind} source URL must start with one of {_listed(supported)}"
    if scheme not in allowed_schemes:
        return (
            f"scheme {scheme!r} is not in the server's allowed_source_schemes "
            f"({_listed(sorted(allowed_schemes))})"
        )
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return f"{shown!r} has a query string or fragment; source URLs may not carry options"
    if scheme == "unix":
        return None
    host = parts.hostname
    if not host:
        return f"{shown!r} names no host"
    if not host_allowed(host, settings.allowed_source_hosts):
        return (
            f"host {host!r} is not in the server's allowed_source_hosts "
            f"({_listed(settings.allowed_source_hosts)}); hostnames must be listed "
            "literally, IP addresses may fall in a listed network"
        )
    return None


def _listed(values: list[str] | tuple[str, ...]) -> str:
    return ", ".join(values) if values else "none"
