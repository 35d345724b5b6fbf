"""Data contracts with their versions, and validation reports linked to dataset versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.clock import utcnow
from shipyard.store.metadata._tables import Base


class DataContract(Base):
    __tablename__ = "data_contracts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DataContractVersion(Base):
    __tablename__ = "data_contract_versions"
    __table_args__ = (UniqueConstraint("contract_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("data_contracts.id", ondelete="CASCADE"))
    version: Mapped[int]
    digest: Mapped[str] = mapped_column(String(80))
    dataset: Mapped[str | None] = mapped_column(String(100), default=None)
    document: Mapped[dict[str, Any]]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DataValidation(Base):
    """One validation report of a dataset version against a contract version."""

    __tablename__ = "data_validations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True
    )
    contract_version_id: Mapped[int] = mapped_column(
        ForeignKey("data_contract_versions.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(20))
    report: Mapped[dict[str, Any]]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
