"""Tag and untag principals and resources (models, datasets, endpoints, experiments).

Each kind has its own actions (``iam:TagPrincipal``, ``registry:TagResource``...), so a
policy can let a team label its models but not its endpoints. A tagging request carries
``sy:RequestTag/<key>`` for each tag it sets and ``sy:TagKeys`` for the keys it names, so
a policy can fix which tags may be set (``ForAllValues:StringEquals`` on ``sy:TagKeys``).
Tags go only on what exists: a name cannot be labelled before its owner creates it, or
by its creator in the same call (models, experiments, endpoints and principals take
``tags`` at creation, authorized as the create and as tagging, ``tag_on_create``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.errors import InvalidInput, NotFound
from shipyard.names import resource
from shipyard.schemas.security import TagSet
from shipyard.security._context import RequestContext
from shipyard.security._generation import bump_generation
from shipyard.security._operation import operation
from shipyard.security._resources import Access
from shipyard.store.metadata import tables as t
from shipyard.store.metadata import tag_tables as tt

MAX_TAGS = 50
_KEY = re.compile(r"^[A-Za-z0-9 _.:/=+@-]{1,128}\Z")
_VALUE = re.compile(r"^[A-Za-z0-9 _.:/=+@-]{0,256}\Z")


def check_tags(tags: object, field: str = "tags") -> dict[str, str]:
    """Tags as given, each key and value well-formed; InvalidInput naming the first bad one."""
    if not isinstance(tags, Mapping):
        raise InvalidInput("must map tag keys to values", field=field)
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"at most {MAX_TAGS} tags", field=field)
    seen: set[str] = set()
    for key, value in tags.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise InvalidInput(
                "a tag key is 1-128 letters, digits, spaces or _.:/=+@-", field=f"{field}.{key}"
            )
        if key.lower().startswith("sy:"):
            raise InvalidInput("tag keys starting 'sy:' are reserved", field=f"{field}.{key}")
        if key.lower() in seen:
            raise InvalidInput("a tag key differing only in case is given twice", field=field)
        seen.add(key.lower())
        if not isinstance(value, str) or not _VALUE.match(value):
            raise InvalidInput(
                "a tag value is up to 256 letters, digits, spaces or _.:/=+@-",
                field=f"{field}.{key}",
            )
    return dict(tags)


def check_keys(keys: object) -> list[str]:
    if not isinstance(keys, list) or not keys or len(keys) > MAX_TAGS:
        raise InvalidInput(f"must list 1 to {MAX_TAGS} tag keys", field="keys")
    for i, key in enumerate(keys):
        if not isinstance(key, str) or not _KEY.match(key):
            raise InvalidInput("not a tag key", field=f"keys.{i}")
    return list(keys)


def request_tag_keys(tags: object) -> dict[str, object]:
    """``sy:RequestTag/<key>`` for each tag a request sets, and ``sy:TagKeys``."""
    if not isinstance(tags, Mapping):
        return {}
    keys: dict[str, object] = {f"sy:RequestTag/{k}": v for k, v in tags.items()}
    return keys | {"sy:TagKeys": [str(k) for k in tags]}


def _merge(current: dict[str, str], tags: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The tags after setting ``tags`` (a key replaces one that differs only in case), and the
    stored keys it replaces."""
    by_lower = {k.lower(): k for k in current}
    replaced = [by_lower[k.lower()] for k in tags if k.lower() in by_lower]
    merged = {k: v for k, v in current.items() if k not in replaced} | dict(tags)
    if len(merged) > MAX_TAGS:
        raise InvalidInput(f"at most {MAX_TAGS} tags on one resource", field="tags")
    return merged, replaced


# Principals.


def _principal_id(session: Session, name: str) -> int:
    found = session.scalar(sa.select(t.Principal.id).where(t.Principal.name == name))
    if found is None:
        raise NotFound(f"principal {name!r} does not exist", field="principal")
    return found


def _principal_tags(session: Session, principal_id: int) -> dict[str, str]:
    rows = session.execute(
        sa.select(tt.PrincipalTag.key, tt.PrincipalTag.value).where(
            tt.PrincipalTag.principal_id == principal_id
        )
    )
    return dict(sorted((k, v) for k, v in rows))


def set_principal_tags(session: Session, principal_id: int, tags: Mapping[str, str]) -> None:
    """Set (add or replace) tags on a principal; policies may test them, so bump."""
    _, replaced = _merge(_principal_tags(session, principal_id), tags)
    stale = [*replaced, *tags]
    session.execute(
        sa.delete(tt.PrincipalTag).where(
            tt.PrincipalTag.principal_id == principal_id, tt.PrincipalTag.key.in_(stale)
        )
    )
    session.add_all(
        tt.PrincipalTag(principal_id=principal_id, key=k, value=v) for k, v in tags.items()
    )
    bump_generation(session)


def _principal_resource(principal: str) -> str:
    return resource("principal", principal)


def _principal_tag_set(session: Session, principal: str, principal_id: int) -> TagSet:
    return TagSet(
        resource=_principal_resource(principal), tags=_principal_tags(session, principal_id)
    )


@operation("iam:TagPrincipal", _principal_resource, context=request_tag_keys, mutating=True)
def tag_principal(ctx: RequestContext, principal: str, tags: dict[str, str]) -> TagSet:
    """Set tags on a principal (a key already there is replaced)."""
    given = check_tags(tags)
    with ctx.platform.db.session() as session:
        principal_id = _principal_id(session, principal)
        set_principal_tags(session, principal_id, given)
        session.flush()
        return TagSet(
            resource=_principal_resource(principal), tags=_principal_tags(session, principal_id)
        )


def named_keys(keys: object) -> dict[str, object]:
    """``sy:TagKeys``: the keys an untag request names."""
    return {"sy:TagKeys": [str(k) for k in keys] if isinstance(keys, list) else []}


@operation("iam:UntagPrincipal", _principal_resource, context=named_keys, mutating=True)
def untag_principal(ctx: RequestContext, principal: str, keys: list[str]) -> TagSet:
    """Remove tags from a principal by key (keys not there are ignored)."""
    names = check_keys(keys)
    with ctx.platform.db.session() as session:
        principal_id = _principal_id(session, principal)
        session.execute(
            sa.delete(tt.PrincipalTag).where(
                tt.PrincipalTag.principal_id == principal_id,
                sa.func.lower(tt.PrincipalTag.key).in_([k.lower() for k in names]),
            )
        )
        bump_generation(session)
        return TagSet(
            resource=_principal_resource(principal), tags=_principal_tags(session, principal_id)
        )


@operation("iam:ListPrincipalTags", _principal_resource, mutating=False)
def list_principal_tags(ctx: RequestContext, principal: str) -> TagSet:
    with ctx.platform.db.session() as session:
        principal_id = _principal_id(session, principal)
        return TagSet(
            resource=_principal_resource(principal), tags=_principal_tags(session, principal_id)
        )


# Resources, by name: one set of three operations per kind.


def _resource_tags(session: Session, name: str) -> dict[str, str]:
    rows = session.execute(
        sa.select(tt.ResourceTag.key, tt.ResourceTag.value).where(tt.ResourceTag.resource == name)
    )
    return dict(sorted((k, v) for k, v in rows))


def forget_tags(session: Session, name: str) -> None:
    """Drop a deleted resource's tags, so one created later under its name starts bare."""
    session.execute(sa.delete(tt.ResourceTag).where(tt.ResourceTag.resource == name))


@dataclass(frozen=True)
class _Taggable:
    kind: str
    service: str
    table: Any

    def name_of(self, name: str) -> str:
        return resource(self.kind, name)

    def existing(self, session: Session, name: str) -> str:
        if session.scalar(sa.select(self.table.id).where(self.table.name == name)) is None:
            raise NotFound(f"{self.kind} {name!r} does not exist", field="name")
        return self.name_of(name)


def _named(fn: Callable[..., TagSet], name: str, doc: str) -> Callable[..., TagSet]:
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def set_resource_tags(session: Session, target: str, tags: Mapping[str, str]) -> None:
    """Set (add or replace) checked ``tags`` on the resource named ``target``."""
    _, replaced = _merge(_resource_tags(session, target), tags)
    session.execute(
        sa.delete(tt.ResourceTag).where(
            tt.ResourceTag.resource == target,
            tt.ResourceTag.key.in_([*replaced, *tags]),
        )
    )
    session.add_all(tt.ResourceTag(resource=target, key=k, value=v) for k, v in tags.items())
    bump_generation(session)  # conditions test resource tags: key caches reload
    session.flush()


def tag_on_create(service: str, kind: str) -> Callable[..., list[Access]]:
    """The ``uses`` of a create that takes ``tags``: tagging at creation is tagging, so it
    needs ``<service>:TagResource`` on the new resource as well as the create action (both
    see ``sy:RequestTag/<key>`` and ``sy:TagKeys``, see ``request_tag_keys``)."""

    def uses(name: str, tags: object = None) -> list[Access]:
        return [Access(f"{service}:TagResource", resource(kind, name))] if tags else []

    return uses


def _tagger(kind: _Taggable) -> Callable[..., TagSet]:
    def tag(ctx: RequestContext, name: str, tags: dict[str, str]) -> TagSet:
        given = check_tags(tags)
        with ctx.platform.db.session() as session:
            target = kind.existing(session, name)
            set_resource_tags(session, target, given)
            return TagSet(resource=target, tags=_resource_tags(session, target))

    doc = f"Set tags on a {kind.kind} (a key already there is replaced)."
    return operation(
        f"{kind.service}:TagResource", kind.name_of, context=request_tag_keys, mutating=True
    )(_named(tag, f"tag_{kind.kind}", doc))


def _untagger(kind: _Taggable) -> Callable[..., TagSet]:
    def untag(ctx: RequestContext, name: str, keys: list[str]) -> TagSet:
        names = check_keys(keys)
        with ctx.platform.db.session() as session:
            target = kind.existing(session, name)
            session.execute(
                sa.delete(tt.ResourceTag).where(
                    tt.ResourceTag.resource == target,
                    sa.func.lower(tt.ResourceTag.key).in_([k.lower() for k in names]),
                )
            )
            bump_generation(session)
            return TagSet(resource=target, tags=_resource_tags(session, target))

    doc = f"Remove tags from a {kind.kind} by key (keys not there are ignored)."
    return operation(
        f"{kind.service}:UntagResource", kind.name_of, context=named_keys, mutating=True
    )(_named(untag, f"untag_{kind.kind}", doc))


def _lister(kind: _Taggable) -> Callable[..., TagSet]:
    def list_tags(ctx: RequestContext, name: str) -> TagSet:
        with ctx.platform.db.session() as session:
            target = kind.existing(session, name)
            return TagSet(resource=target, tags=_resource_tags(session, target))

    named = _named(list_tags, f"list_{kind.kind}_tags", f"A {kind.kind}'s tags.")
    return operation(f"{kind.service}:ListTags", kind.name_of, mutating=False)(named)


_MODEL = _Taggable("model", "registry", t.Model)
_DATASET = _Taggable("dataset", "datasets", t.Dataset)
_ENDPOINT = _Taggable("endpoint", "endpoints", t.Endpoint)
_EXPERIMENT = _Taggable("experiment", "tracking", t.Experiment)

tag_model, untag_model, list_model_tags = _tagger(_MODEL), _untagger(_MODEL), _lister(_MODEL)
tag_dataset, untag_dataset, list_dataset_tags = (
    _tagger(_DATASET),
    _untagger(_DATASET),
    _lister(_DATASET),
)
tag_endpoint, untag_endpoint, list_endpoint_tags = (
    _tagger(_ENDPOINT),
    _untagger(_ENDPOINT),
    _lister(_ENDPOINT),
)
tag_experiment, untag_experiment, list_experiment_tags = (
    _tagger(_EXPERIMENT),
    _untagger(_EXPERIMENT),
    _lister(_EXPERIMENT),
)
