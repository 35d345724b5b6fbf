"""Retention rules and what applying them did (or would do)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shipyard.schemas._base import WireModel

RetentionKind = Literal["captures", "dataset_versions", "deleted_runs"]


class RetentionRule(WireModel):
    """Captures of endpoint ``target`` older than ``days``; versions of dataset ``target``
    beyond the last ``keep_last``; or runs of experiment ``target`` deleted more than
    ``days`` ago, purged."""

    kind: RetentionKind
    target: str
    days: int | None = None
    keep_last: int | None = None
    every_seconds: int = 3600
    created_by: str
    created_at: datetime

    @property
    def resource(self) -> str:
        return f"sy:retention/{self.kind}/{self.target}"


class RetentionOutcome(WireModel):
    """One rule applied: what it deleted (or, in a dry run, would delete)."""

    kind: RetentionKind
    target: str
    deleted: list[str] = Field(default_factory=list)
    purged_blobs: int = 0
    skipped: list[str] = Field(default_factory=list)
    """What the rule could not delete, and why (a refusal, a dependent)."""


class RetentionReport(WireModel):
    dry_run: bool
    outcomes: list[RetentionOutcome]
