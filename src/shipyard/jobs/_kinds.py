"""A job kind: what the one job service needs to know to run, name and describe its jobs.

A kind is a small module that defines a ``JobKind`` and its ``@operation`` functions
(create, plus get, list, logs and cancel made of the shared pieces in ``_control``); the
worker function named by ``worker`` runs in the job process under ``_main``, which owns
status, log, progress, limits, retries, the resource record and exit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shipyard.schemas.jobs import JobInfo


@dataclass(frozen=True)
class JobKind:
    """``name`` is stored in ``jobs.kind``; ``resource_kind`` names its jobs in policies
    (``sy:<resource_kind>/<scope>/<id>``); ``worker`` is ``module:function`` of the job
    process; ``describe`` builds the kind's info from its job row."""

    name: str
    resource_kind: str
    noun: str
    worker: str
    describe: Callable[[Session, Any], JobInfo]


KINDS: dict[str, JobKind] = {}


def register_kind(kind: JobKind) -> JobKind:
    """Add a kind to the job system (each kind's module does this once, at import)."""
    KINDS[kind.name] = kind
    return kind
