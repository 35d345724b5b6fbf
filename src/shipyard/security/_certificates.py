"""Revoking client certificates (mutual TLS) one by one, before they expire.

A revoked certificate is recorded by its serial number; both servers refuse it at request
time with a 401 that names the revocation: the control plane looks the serial up (one
indexed query, as it looks keys up), the serving plane answers from its cached security
state, reloaded when the security generation moves (every revocation bumps it), so a
revocation reaches every worker within a second.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.errors import Conflict, InvalidInput
from shipyard.names import resource
from shipyard.schemas.security import RevokedCertificateInfo
from shipyard.security._context import RequestContext
from shipyard.security._generation import bump_generation
from shipyard.security._operation import operation
from shipyard.store.metadata import certificate_tables as ct

_SERIAL = re.compile(r"(?:0x)?[0-9a-f]{1,64}")


def normalize_serial(serial: str, field: str = "serial") -> str:
    """A serial as lowercase hex without leading zeros (``0x``, ``:`` and case ignored)."""
    text = serial.strip().lower().replace(":", "")
    if not _SERIAL.fullmatch(text):
        raise InvalidInput(f"{serial!r:.80} is not a certificate serial number (hex)", field=field)
    return text.removeprefix("0x").lstrip("0") or "0"


def revocation_message(serial: str, reason: str) -> str:
    """The 401's message for a revoked certificate."""
    return f"the client certificate (serial {serial}) was revoked: {reason}"


def revoked_reason(session: Session, serial: str | None) -> str | None:
    """Why the certificate ``serial`` was revoked, or None if it was not."""
    if not serial:
        return None
    return session.scalar(
        sa.select(ct.RevokedCertificate.reason).where(ct.RevokedCertificate.serial == serial)
    )


def revoked_serials(session: Session) -> dict[str, str]:
    """Every revoked serial and its reason (for the serving plane's cache)."""
    rows = session.execute(sa.select(ct.RevokedCertificate.serial, ct.RevokedCertificate.reason))
    return {serial: reason for serial, reason in rows}


def _info(row: ct.RevokedCertificate) -> RevokedCertificateInfo:
    return RevokedCertificateInfo(
        serial=row.serial,
        principal=row.principal,
        reason=row.reason,
        revoked_by=row.revoked_by,
        revoked_at=row.revoked_at,
        resource=resource("certificate", row.serial),
    )


def _certificate(serial: str) -> str:
    return resource("certificate", normalize_serial(serial))


@operation(
    "iam:RevokeCertificate",
    _certificate,
    mutating=True,
    audit=lambda reason, principal=None: {"reason": reason, "principal": principal},
)
def revoke_certificate(
    ctx: RequestContext, serial: str, reason: str, principal: str | None = None
) -> RevokedCertificateInfo:
    """Revoke the client certificate ``serial`` (``principal``: whom it names, for the
    record); from now on both servers refuse it with 401, whatever its expiry."""
    number = normalize_serial(serial)
    reason = reason.strip()
    if not 1 <= len(reason) <= 500 or not reason.isprintable():
        raise InvalidInput("give a reason of 1 to 500 printable characters", field="reason")
    if principal is not None and not (1 <= len(principal) <= 100 and principal.isprintable()):
        raise InvalidInput("must be 1 to 100 printable characters", field="principal")
    with ctx.platform.db.session() as session:
        found = session.scalar(
            sa.select(ct.RevokedCertificate).where(ct.RevokedCertificate.serial == number)
        )
        if found is not None:
            raise Conflict(f"certificate {number} is already revoked", field="serial")
        row = ct.RevokedCertificate(
            serial=number, principal=principal, reason=reason, revoked_by=ctx.principal
        )
        session.add(row)
        session.flush()
        bump_generation(session)
        return _info(row)


@operation("iam:ListRevokedCertificates", lambda: resource("certificate"), mutating=False)
def list_revoked_certificates(ctx: RequestContext) -> list[RevokedCertificateInfo]:
    """Every revoked client certificate, the latest first."""
    with ctx.platform.db.session() as session:
        rows = session.scalars(
            sa.select(ct.RevokedCertificate).order_by(ct.RevokedCertificate.id.desc())
        )
        return [_info(row) for row in rows]
