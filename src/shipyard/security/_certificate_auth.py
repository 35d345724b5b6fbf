"""Authentication by client certificate (mutual TLS).

The TLS handshake has already verified the certificate against the server's client CA;
what is left is whom it names. A certificate names a principal by one SAN URI
``sy:principal/NAME``, and only a service principal (a program, not a person) that
exists and is enabled may be named. Anything else is the same 401, whatever was wrong.
"""

from __future__ import annotations

import sqlalchemy as sa

from shipyard.errors import Unauthenticated
from shipyard.platform import Platform
from shipyard.security._context import RequestContext
from shipyard.security._iam import _policies_of
from shipyard.store.metadata import tables as t

NOT_MAPPED = (
    "the client certificate names no enabled service principal "
    "(expected one SAN URI sy:principal/NAME)"
)


def authenticate_certificate(
    platform: Platform, principal: str | None, request_id: str | None = None
) -> RequestContext:
    """The context of the service principal a verified client certificate names."""
    if not principal:
        raise Unauthenticated(NOT_MAPPED)
    with platform.db.session() as session:
        row = session.scalar(sa.select(t.Principal).where(t.Principal.name == principal))
        if row is None or row.disabled or row.kind != "service":
            raise Unauthenticated(NOT_MAPPED)
        policies = _policies_of(session, row.id)
    ctx = RequestContext(platform=platform, principal=principal, policies=policies)
    if request_id:
        ctx.request_id = request_id
    return ctx
