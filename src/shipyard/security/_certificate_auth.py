"""Authentication by client certificate (mutual TLS).

The TLS handshake has already verified the certificate against the server's client CA;
what is left is whom it names. A certificate names a principal by one SAN URI
``sy:principal/NAME``, and only a service principal (a program, not a person) that
exists and is enabled may be named. Anything else is the same 401, whatever was wrong,
except a revoked certificate: its 401 says it was revoked (see ``_certificates``).
"""

from __future__ import annotations

import sqlalchemy as sa

from shipyard.errors import Unauthenticated
from shipyard.platform import Platform
from shipyard.security._certificates import revocation_message, revoked_reason
from shipyard.security._context import RequestContext
from shipyard.security._iam import context_for
from shipyard.store.metadata import tables as t

NOT_MAPPED = (
    "the client certificate names no enabled service principal "
    "(expected one SAN URI sy:principal/NAME)"
)


def authenticate_certificate(
    platform: Platform,
    principal: str | None,
    request_id: str | None = None,
    serial: str | None = None,
) -> RequestContext:
    """The context of the service principal a verified client certificate (of serial
    number ``serial``) names; Unauthenticated naming the revocation if it was revoked."""
    if not principal:
        raise Unauthenticated(NOT_MAPPED)
    with platform.db.session() as session:
        reason = revoked_reason(session, serial)
        if serial is not None and reason is not None:
            raise Unauthenticated(revocation_message(serial, reason))
        row = session.scalar(sa.select(t.Principal).where(t.Principal.name == principal))
        if row is None or row.disabled or row.kind != "service":
            raise Unauthenticated(NOT_MAPPED)
    # its policies, group policies, permission boundary and tags, as a key's would be
    return context_for(platform, principal, request_id)
