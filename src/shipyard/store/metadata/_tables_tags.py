"""Tags: key-value labels on principals and on resources, tested by policy conditions
(``sy:PrincipalTag/<key>``, ``sy:ResourceTag/<key>``)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.store.metadata._tables import Base


class PrincipalTag(Base):
    __tablename__ = "principal_tags"
    principal_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("principals.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class ResourceTag(Base):
    """A tag on a resource, by its name (``sy:model/churn``): every kind the same way."""

    __tablename__ = "resource_tags"
    resource: Mapped[str] = mapped_column(String(300), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))
