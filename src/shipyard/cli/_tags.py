"""``--tag KEY=VALUE`` on the commands that create a taggable resource."""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.errors import InvalidInput

TagOption = Annotated[
    list[str] | None,
    typer.Option("--tag", help="KEY=VALUE set at creation; repeat for more tags."),
]


def tag_pairs(pairs: list[str] | None) -> dict[str, str] | None:
    """The ``--tag`` options as a mapping (None when none were given)."""
    given: dict[str, str] = {}
    for pair in pairs or []:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise InvalidInput(f"{pair!r} is not KEY=VALUE", field="tags")
        given[key] = value
    return given or None
