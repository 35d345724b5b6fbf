"""Listings in the SDK: a page (or every row) as a list that knows where the next begins.

A list method called without ``limit`` or ``page_token`` returns every row, as it did
before listings were paged (it follows the pages itself, ``MAX_LIMIT`` rows a request);
with either, it returns that one page. ``iterate`` walks any list method page by page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from pydantic import BaseModel

from shipyard.client._transport import Transport
from shipyard.schemas.paging import DEFAULT_LIMIT, MAX_LIMIT

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class Listing(list[T]):
    """Rows of a listing; ``next_page_token`` continues after them (None: no more rows)."""

    next_page_token: str | None = None


def fetch_listing(
    transport: Transport,
    operation: str,
    model: type[M],
    limit: int | None,
    page_token: str | None,
    **arguments: Any,
) -> Listing[M]:
    """One page when ``limit`` or ``page_token`` is given, else every row."""
    rows: Listing[M] = Listing()
    whole = limit is None and page_token is None
    token = page_token
    while True:
        found = transport.call(
            operation,
            limit=MAX_LIMIT if whole else (DEFAULT_LIMIT if limit is None else limit),
            page_token=token,
            **arguments,
        )
        rows.extend(model.model_validate(item) for item in found["items"])
        token = found["next_page_token"]
        if not whole or token is None:
            rows.next_page_token = token
            return rows


def iterate(
    list_method: Callable[..., Listing[T]],
    *args: Any,
    page_size: int = DEFAULT_LIMIT,
    **kwargs: Any,
) -> Iterator[T]:
    """Every row of a listing, fetched ``page_size`` at a time as the loop reaches them:
    ``for d in iterate(client.datasets.list): ...``."""
    token: str | None = None
    while True:
        page = list_method(*args, limit=page_size, page_token=token, **kwargs)
        yield from page
        token = page.next_page_token
        if token is None:
            return
