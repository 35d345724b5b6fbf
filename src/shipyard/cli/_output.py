"""How the CLI shows results: Rich tables for people, ``--json`` for scripts."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

console = Console()
errors = Console(stderr=True)


def print_json(value: Any) -> None:
    from pydantic import BaseModel

    def default(obj: Any) -> Any:
        if isinstance(obj, BaseModel):
            return obj.model_dump(mode="json")
        raise TypeError(type(obj).__name__)

    sys.stdout.write(orjson.dumps(value, default=default, option=orjson.OPT_INDENT_2).decode())
    sys.stdout.write("\n")


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print rows as a table; None shows as an empty cell."""
    view = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        view.add_column(column, overflow="fold")
    for row in rows:
        view.add_row(*("" if v is None else _cell(v) for v in row))
    console.print(view)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if hasattr(value, "strftime"):
        return str(value.strftime("%Y-%m-%d %H:%M:%S"))
    return str(value)


def emit(value: Any, as_json: bool, show: Callable[[], None]) -> None:
    """JSON to stdout when asked, else the human view."""
    if as_json:
        print_json(value)
    else:
        show()


TYPE_WARNING_HINT = (
    "kept as text; to refuse such files, ingest with --contract and a contract "
    "that declares the column integer or float"
)


def warn_type_problems(messages: Iterable[str]) -> None:
    """Ingest warnings (a numeric column kept as text) on stderr, values shown verbatim."""
    for message in messages:
        errors.print(
            f"warning: {message} ({TYPE_WARNING_HINT})",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
