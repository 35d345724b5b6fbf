"""One page of a listing: its rows and the token that continues after the last of them."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import Field

from shipyard.schemas._base import WireModel

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class Page(WireModel, Generic[T]):
    """Rows in the listing's order; pass ``next_page_token`` back as ``page_token`` for the
    rows after them (None on the last page)."""

    items: list[T] = Field(default_factory=list)
    next_page_token: str | None = None
