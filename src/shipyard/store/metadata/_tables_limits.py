"""Request limits per principal (rate and daily quota), and the requests counted per day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.clock import utcnow
from shipyard.store.metadata._tables import Base


class PrincipalLimit(Base):
    """A principal's own limits, in place of the settings' defaults (None: no limit)."""

    __tablename__ = "principal_limits"
    principal_id: Mapped[int] = mapped_column(
        ForeignKey("principals.id", ondelete="CASCADE"), primary_key=True
    )
    requests_per_second: Mapped[float | None] = mapped_column(Float, default=None)
    burst: Mapped[int | None] = mapped_column(Integer, default=None)
    daily_quota: Mapped[int | None] = mapped_column(BigInteger, default=None)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PrincipalUsage(Base):
    """Requests a principal made on a UTC day, on both planes, as servers flush their counts."""

    __tablename__ = "principal_usage"
    principal: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
