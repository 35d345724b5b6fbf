"""MLflow page tokens: an opaque string that carries the offset of the next page."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TypeVar

import orjson

from shipyard.errors import InvalidInput

T = TypeVar("T")
MAX_PAGE = 10_000
MAX_HISTORY_PAGE = 2**31 - 1


def page_size(
    value: int | None, *, default: int, limit: int = MAX_PAGE, field: str = "max_results"
) -> int:
    if value is None:
        return default
    if not 1 <= value <= limit:
        raise InvalidInput(f"must be between 1 and {limit}", field=field)
    return value


def offset_of(token: str) -> int:
    """The offset a token carries (0 for no token)."""
    if not token:
        return 0
    try:
        document = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        offset = document["offset"]
    except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise InvalidInput("is not a page token this server gave", field="page_token") from None
    if not isinstance(offset, int) or offset < 0:
        raise InvalidInput("is not a page token this server gave", field="page_token")
    return offset


def token_for(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"offset": offset})).decode()


def page(items: Sequence[T], offset: int, size: int) -> tuple[list[T], str | None]:
    """One page of ``items`` from ``offset``, and the token of the next (None at the end)."""
    chunk = list(items[offset : offset + size])
    return chunk, (token_for(offset + size) if offset + size < len(items) else None)
