"""Named resources with numbered versions, found, numbered and reused one way.

Datasets, contracts, transforms, streams, feature views and models each keep a parent row
with a unique ``name`` and version rows numbered from 1 under it. A ``VersionedKind``
describes one such pair of tables; the functions here resolve ``name`` / ``name@N`` /
latest (NotFound naming the field), create the parent on first use, and add the next
version, returning the existing one when its spec or content digest is unchanged.

Concurrent creators of versions of one name are serialized by ``claim_parent``: it
inserts the parent if missing (``ON CONFLICT DO NOTHING``) and then holds a lock on it
until the transaction ends. On SQLite the insert itself takes the database's write lock
(the driver opens the transaction at the first write, so no stale read precedes it); on
PostgreSQL the parent row is locked ``FOR NO KEY UPDATE``. Under that lock the latest
version and the digest check see every committed version, so two creators get distinct
numbers, or the same version for the same digest, never a unique-key conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Literal, NamedTuple, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shipyard.errors import NotFound


class NamedRow(Protocol):
    """A parent row: an id its versions point to, and a unique name."""

    id: Any
    name: Any


class NumberedRow(Protocol):
    """A version row, built from keyword fields like every declarative model."""

    version: Any

    def __init__(self, **fields: Any) -> None: ...


ParentT = TypeVar("ParentT", bound=NamedRow)
VersionT = TypeVar("VersionT", bound=NumberedRow)


@dataclass(frozen=True)
class VersionedKind(Generic[ParentT, VersionT]):
    """A parent table (unique ``name``) and its version table (``version`` from 1).

    ``owner_key`` is the version table's foreign key to the parent. ``digest`` is the
    column an unchanged spec is recognised by (None: every call makes a version);
    ``reuse`` says whether it must match the latest version or any version (content-
    addressed data, where the same bytes are one version whenever they were stored).
    """

    noun: str
    parent: type[ParentT]
    version: type[VersionT]
    owner_key: str
    digest: str | None = None
    reuse: Literal["latest", "any"] = "latest"

    def _number(self) -> Any:
        return self.version.version

    def _owner(self) -> Any:
        return getattr(self.version, self.owner_key)

    def _name(self) -> Any:
        return self.parent.name


class AddedVersion(NamedTuple, Generic[VersionT]):
    """The version ``add_version`` returns, and whether this call created it."""

    row: VersionT
    created: bool


def find_parent(
    session: Session, kind: VersionedKind[ParentT, VersionT], name: str
) -> ParentT | None:
    """The parent row named ``name``, None if it does not exist (no lock)."""
    return session.scalar(sa.select(kind.parent).where(kind._name() == name))


def live_versions(
    session: Session, kind: VersionedKind[ParentT, VersionT], name: str, version: int | None
) -> list[VersionT]:
    """The versions of ``name`` not deleted, oldest first: only ``version`` when given.
    NotFound (naming ``name`` or ``version``) when there are none."""
    parent = find_parent(session, kind, name)
    if parent is None:
        raise NotFound(f"{kind.noun} {name!r} does not exist", field="name")
    deleted = getattr(kind.version, "deleted_at", None)
    assert deleted is not None, f"{kind.noun} versions have no tombstones"
    query = sa.select(kind.version).where(kind._owner() == parent.id, deleted.is_(None))
    if version is not None:
        query = query.where(kind._number() == version)
    found = list(session.scalars(query.order_by(kind._number())).all())
    if not found:
        what = f"no live version {version}" if version is not None else "no live versions"
        raise NotFound(f"{kind.noun} {name!r} has {what}", field="version")
    return found


def latest_version(
    session: Session, kind: VersionedKind[ParentT, VersionT], parent: ParentT
) -> VersionT | None:
    """The highest-numbered version of ``parent``, None when it has none."""
    return session.scalar(
        sa.select(kind.version)
        .where(kind._owner() == parent.id)
        .order_by(kind._number().desc())
        .limit(1)
    )


def latest_number(
    session: Session, kind: VersionedKind[ParentT, VersionT], name: str
) -> int | None:
    """The highest version number of ``name``; None when it has no versions or no parent."""
    number: int | None = session.scalar(
        sa.select(sa.func.max(kind._number()))
        .select_from(kind.version)
        .join(kind.parent)
        .where(kind._name() == name)
    )
    return number


def find_versioned(
    session: Session,
    kind: VersionedKind[ParentT, VersionT],
    name: str,
    version: int | None = None,
    *,
    field: str = "name",
    version_field: str = "version",
) -> tuple[ParentT, VersionT]:
    """Version ``version`` of ``name`` (its latest when None); NotFound naming the field.

    A missing name is reported under ``field``, a missing version under ``version_field``.
    """
    parent = find_parent(session, kind, name)
    if parent is None:
        raise NotFound(f"{kind.noun} {name!r} does not exist", field=field)
    deleted = getattr(kind.version, "deleted_at", None)
    if version is None:
        query = sa.select(kind.version).where(kind._owner() == parent.id)
        if deleted is not None:  # the latest version that is not a tombstone
            query = query.where(deleted.is_(None))
        row = session.scalar(query.order_by(kind._number().desc()).limit(1))
    else:
        row = session.scalar(
            sa.select(kind.version).where(kind._owner() == parent.id, kind._number() == version)
        )
    if row is None:
        what = f"version {version}" if version is not None else "versions"
        raise NotFound(f"{kind.noun} {name!r} has no {what}", field=version_field)
    if getattr(row, "deleted_at", None) is not None:
        raise NotFound(
            f"{kind.noun} {name!r} version {version} was deleted {tombstone_text(row)}",
            field=version_field,
        )
    return parent, row


def tombstone_text(row: object, verb: str = "deleted") -> str:
    """``on 2026-12-07 by alice: reason`` for a deleted version row (a purged run: ``verb``
    "purged" reads its ``purged_*`` columns)."""
    when = getattr(row, f"{verb}_at", None)
    day = when.strftime("%Y-%m-%d %H:%M UTC") if when is not None else "?"
    who, why = getattr(row, f"{verb}_by", "?"), getattr(row, f"{verb}_reason", "")
    return f"on {day} by {who}: {why}"


def find_unchanged(
    session: Session, kind: VersionedKind[ParentT, VersionT], name: str, digest: str
) -> VersionT | None:
    """The version of ``name`` a spec or content with ``digest`` would reuse, if any.

    Without a lock: callers use it to skip work (storing blobs) before ``add_version``,
    which checks again under the lock.
    """
    parent = find_parent(session, kind, name)
    return None if parent is None else _unchanged(session, kind, parent, digest)


def claim_parent(session: Session, kind: VersionedKind[ParentT, VersionT], name: str) -> ParentT:
    """The parent named ``name``, created if missing, locked until the transaction ends.

    While it is held no other transaction can number a version of ``name``.
    """
    table = sa.inspect(kind.parent).local_table
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    session.execute(insert.values(name=name).on_conflict_do_nothing(index_elements=["name"]))
    parent = session.scalar(
        sa.select(kind.parent)
        .where(kind._name() == name)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    assert parent is not None  # inserted above or already there, and never deleted meanwhile
    return parent


def add_version(
    session: Session,
    kind: VersionedKind[ParentT, VersionT],
    name: str,
    /,
    *,
    reuse_digest: str | None = None,
    **fields: Any,
) -> AddedVersion[VersionT]:
    """Record the next version of ``name`` with ``fields``, creating the parent on first use.

    With ``reuse_digest`` (stored in the kind's digest column), a version whose digest is
    unchanged is returned instead, with ``created`` false. The row is flushed, not
    committed: it becomes visible with the caller's transaction.
    """
    if reuse_digest is not None:
        if kind.digest is None:
            raise TypeError(f"{kind.noun} versions have no digest to reuse them by")
        # An unchanged spec is the common case: answer it without taking the lock.
        existing = find_unchanged(session, kind, name, reuse_digest)
        if existing is not None:
            return AddedVersion(existing, False)
    parent = claim_parent(session, kind, name)
    if reuse_digest is not None and kind.digest is not None:
        existing = _unchanged(session, kind, parent, reuse_digest)
        if existing is not None:
            return AddedVersion(existing, False)
        fields[kind.digest] = reuse_digest
    number = next_number(session, kind, parent)
    row = kind.version(**fields, **{kind.owner_key: parent.id, "version": number})
    session.add(row)
    session.flush()
    return AddedVersion(row, True)


def next_number(session: Session, kind: VersionedKind[ParentT, VersionT], parent: ParentT) -> int:
    """The number the next version of ``parent`` gets (hold ``claim_parent`` first)."""
    latest = session.scalar(
        sa.select(sa.func.max(kind._number())).where(kind._owner() == parent.id)
    )
    return int(latest or 0) + 1


def _unchanged(
    session: Session, kind: VersionedKind[ParentT, VersionT], parent: ParentT, digest: str
) -> VersionT | None:
    assert kind.digest is not None, f"{kind.noun} versions have no digest to compare"
    if kind.reuse == "latest":
        latest = latest_version(session, kind, parent)
        return latest if latest is not None and getattr(latest, kind.digest) == digest else None
    return session.scalar(
        sa.select(kind.version).where(
            kind._owner() == parent.id, getattr(kind.version, kind.digest) == digest
        )
    )
