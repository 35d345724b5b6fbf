"""Client certificates revoked before they expire (mutual TLS principals)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.clock import utcnow
from shipyard.store.metadata._tables import Base


class RevokedCertificate(Base):
    """A revoked certificate, by its serial number (lowercase hex, no leading zeros)."""

    __tablename__ = "revoked_certificates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    principal: Mapped[str | None] = mapped_column(String(100), default=None)
    reason: Mapped[str] = mapped_column(String(500))
    revoked_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)
