"""Keyset paging for listings: a page continues after the last row's sort key, not at an
offset, so a page costs the same at row 100,000 as at row 1 and rows added or removed
meanwhile neither repeat nor go missing.

The token is the sort key of the page's last row, with the listing and its filters it came
from (base64 of JSON). It is not signed: a caller who edits one only chooses where a listing
they may read starts. It is refused, naming ``page_token``, unless it is well formed and of
the same listing with the same filters.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa

from shipyard.errors import InvalidInput
from shipyard.schemas.paging import MAX_LIMIT

_MAX_KEY = 1000
Q = TypeVar("Q")  # a select statement


def check_limit(limit: int, maximum: int = MAX_LIMIT) -> None:
    if not 1 <= limit <= maximum:
        raise InvalidInput(f"must be between 1 and {maximum}", field="limit")


@dataclass(frozen=True)
class Keyset:
    """Pages of ``listing`` sorted by ``column``: one unique column (a name, an id), or a
    tuple of columns whose values together are unique (a time, then an id)."""

    listing: str
    column: Any
    limit: int
    page_token: str | None = None
    filters: Sequence[Any] = ()
    """The listing's arguments a token is bound to (another filter's token is refused)."""
    descending: bool = False
    name_contains: str | None = None
    """Only rows whose key (one text column, a name) holds this text, in any case."""

    def __post_init__(self) -> None:
        check_limit(self.limit)
        if self.name_contains is not None and len(self.name_contains) > MAX_NAME_FILTER:
            raise InvalidInput(f"at most {MAX_NAME_FILTER} characters", field="name_contains")

    @property
    def _columns(self) -> tuple[Any, ...]:
        return self.column if isinstance(self.column, tuple) else (self.column,)

    def apply(self, select: Q) -> Q:
        """``query`` from where the token says, in key order, one row more than a page (so
        the page knows whether another follows without counting)."""
        query: Any = select
        columns = self._columns
        if self.name_contains:
            query = query.where(name_holds(columns[0], self.name_contains))
        after = self._after()
        if after is not None:
            key, values = (
                (columns[0], after[0])
                if len(columns) == 1
                else (
                    sa.tuple_(*columns),
                    sa.tuple_(
                        *(sa.literal(v, c.type) for v, c in zip(after, columns, strict=True))
                    ),
                )
            )
            query = query.where(key < values if self.descending else key > values)
        order = [c.desc() if self.descending else c.asc() for c in columns]
        paged: Q = query.order_by(*order).limit(self.limit + 1)
        return paged

    def page(self, rows: Sequence[Any], key: Callable[[Any], Any]) -> tuple[list[Any], str | None]:
        """The page's rows and the token after the last one (None when no row follows);
        ``key`` gives a row's sort key (a tuple when sorted by several columns)."""
        shown = list(rows[: self.limit])
        if len(rows) <= self.limit:
            return shown, None
        last = key(shown[-1])
        values = last if isinstance(last, tuple) else (last,)
        return shown, self._token([_encode(v) for v in values])

    def _scope(self) -> str:
        contains = (["name_contains", self.name_contains],) if self.name_contains else ()
        return token_scope(self.listing, [*self.filters, *contains])

    def _token(self, values: list[Any]) -> str:
        return encode_token(self._scope(), values)

    def _after(self) -> list[Any] | None:
        if not self.page_token:
            return None
        columns = self._columns
        raw = decode_token(self.page_token, self._scope(), len(columns))
        try:
            return [_decode(v, _python_type(c)) for v, c in zip(raw, columns, strict=True)]
        except (TypeError, ValueError):
            raise refused_token() from None


MAX_NAME_FILTER = 200


def name_holds(column: Any, text: str) -> Any:
    """``column`` holds ``text`` in any case (``%``, ``_`` and ``\\`` match themselves)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.func.lower(column).like(f"%{escaped}%", escape="\\")


def refused_token() -> InvalidInput:
    return InvalidInput("is not a page token of this listing", field="page_token")


def token_scope(listing: str, filters: Sequence[Any]) -> str:
    """What a token is bound to: its listing and the arguments that choose its rows."""
    raw = orjson.dumps([listing, list(filters)], default=str)
    return hashlib.sha256(raw).hexdigest()[:16]


def encode_token(scope: str, values: list[Any]) -> str:
    """A page token: the scope and the last row's sort key (JSON values)."""
    raw = orjson.dumps([scope, values])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, scope: str, count: int, max_length: int = 4 * _MAX_KEY) -> list[Any]:
    """The ``count`` JSON values of a token of ``scope``, else InvalidInput on page_token."""
    if len(token) > max_length:
        raise refused_token()
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        raise refused_token() from None
    if (
        not isinstance(decoded, list)
        or len(decoded) != 2
        or decoded[0] != scope
        or not isinstance(decoded[1], list)
        or len(decoded[1]) != count
    ):
        raise refused_token()
    values: list[Any] = decoded[1]
    return values


def _python_type(column: Any) -> type:
    kind = getattr(column.type, "impl_instance", column.type)  # through a TypeDecorator
    return kind.python_type  # type: ignore[no-any-return]


def _encode(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _decode(value: Any, kind: type) -> Any:
    """A key value read back from a token, of its column's type, else TypeError/ValueError."""
    if kind is datetime and isinstance(value, str) and len(value) <= 64:
        return datetime.fromisoformat(value)
    if kind is int and type(value) is int and -(2**63) <= value < 2**63:
        return value
    if kind is str and isinstance(value, str) and len(value) <= _MAX_KEY:
        return value
    raise TypeError(kind)
