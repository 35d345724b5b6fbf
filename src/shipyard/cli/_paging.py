"""``--limit`` and ``--page-token`` for list commands, and the line that says how to go on."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from shipyard.cli._output import console, errors
from shipyard.client._paging import Listing

LimitOption = Annotated[
    int | None,
    typer.Option("--limit", help="Show one page of at most this many (1-1000); all without it."),
]
NameContainsOption = Annotated[
    str | None,
    typer.Option("--name-contains", help="Only those whose name holds this text (any case)."),
]
PageTokenOption = Annotated[
    str | None,
    typer.Option("--page-token", help="Continue after the page that printed this token."),
]


def show_next_page(found: Listing[Any], as_json: bool) -> None:
    """``more: --page-token ...`` when rows follow: after the table, or on stderr with
    ``--json`` (stdout stays one JSON array)."""
    if found.next_page_token:
        (errors if as_json else console).print(
            f"more: --page-token {found.next_page_token}", highlight=False, soft_wrap=True
        )
