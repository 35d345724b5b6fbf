"""Keyset pages for run search: a page continues after the last run's sort key, whatever
``order_by`` says, so the thousandth page costs what the first does.

A search sorts by its ``order_by`` keys (a run without the value last, either way), then
newest first, then id, which makes every run's key unique. The token holds the last run's
values of all of them; the next page is the runs strictly after it in that order. The
token is bound to the search (experiments, filter, order, view) like every listing's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from shipyard.store.metadata import decode_token, encode_token, refused_token
from shipyard.store.metadata import tables as t

_MAX_VALUE = 65_536  # a param's or tag's value as a sort key
_NOT_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


@dataclass(frozen=True)
class SortKey:
    """One key of a search's order: an expression over a run, its direction, the Python
    type of its values and whether a run may lack one (sorted last)."""

    expression: Any
    ascending: bool
    kind: type
    nullable: bool
    join: tuple[Any, Any] | None = None
    """The outer join (table, condition) the expression reads from, if any."""


TIEBREAK = (
    SortKey(t.Run.start_time, False, datetime, False),
    SortKey(t.Run.id, True, str, False),
)
"""The keys every search ends with (the order of ``ix_runs_start_time_id``)."""


def order_clauses(keys: Sequence[SortKey]) -> list[Any]:
    order = []
    for k in keys:
        direction = k.expression.asc() if k.ascending else k.expression.desc()
        order.append(sa.nulls_last(direction) if k.nullable else direction)
    return order


def after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Runs strictly after the one whose sort key is ``values``, in ``keys`` order."""
    branches = []
    for i, (key, value) in enumerate(zip(keys, values, strict=True)):
        if value is None:
            continue  # nothing sorts after a missing value in its own key
        beyond = key.expression > value if key.ascending else key.expression < value
        if key.nullable:
            beyond = sa.or_(beyond, key.expression.is_(None))
        equal = [
            k.expression.is_(None) if v is None else k.expression == v
            for k, v in zip(keys[:i], values[:i], strict=True)
        ]
        branches.append(sa.and_(*equal, beyond))
    condition = sa.or_(*branches) if branches else sa.false()
    first, value = keys[0], values[0]
    if value is None:
        return condition
    # the first key's bound again on its own, so an index on it bounds the scan
    bound = first.expression >= value if first.ascending else first.expression <= value
    if first.nullable:
        bound = sa.or_(bound, first.expression.is_(None))
    return sa.and_(bound, condition)


def token(scope: str, values: Sequence[Any]) -> str:
    return encode_token(scope, [_encode(v) for v in values])


def token_values(page_token: str, scope: str, keys: Sequence[SortKey]) -> list[Any]:
    """The sort key a token continues after, each value of its key's type."""
    raw = decode_token(page_token, scope, len(keys), max_length=8 * _MAX_VALUE)
    try:
        return [_decode(v, k) for v, k in zip(raw, keys, strict=True)]
    except (TypeError, ValueError):
        raise refused_token() from None


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _decode(value: Any, key: SortKey) -> Any:
    if value is None and key.nullable:
        return None
    if key.kind is datetime and isinstance(value, str) and len(value) <= 64:
        return datetime.fromisoformat(value)
    if key.kind is float and type(value) in (int, float):
        return float(value)
    if key.kind is float and isinstance(value, str) and value in _NOT_FINITE:
        return _NOT_FINITE[value]
    if key.kind is str and isinstance(value, str) and len(value) <= _MAX_VALUE:
        return value
    raise TypeError(key.kind)
