"""References inside a step's configuration: ``${params.x}`` and ``${steps.train.run}``.

A string that is exactly one reference becomes the referenced value (a number stays a
number); references inside a longer string are written into it as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

REFERENCE = re.compile(r"\$\{\s*(params|steps)\.([A-Za-z0-9_-]+)(?:\.([A-Za-z0-9_.-]+))?\s*\}")


@dataclass(frozen=True)
class Ref:
    """``${params.<name>}`` (``output`` None) or ``${steps.<name>.<output>}``."""

    scope: str
    name: str
    output: str | None


def refs_in(value: Any) -> Iterator[Ref]:
    """Every reference anywhere in a configuration value (strings, lists, mappings)."""
    if isinstance(value, str):
        for found in REFERENCE.finditer(value):
            yield Ref(found[1], found[2], found[3])
    elif isinstance(value, dict):
        for item in value.values():
            yield from refs_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from refs_in(item)


def substitute(value: Any, lookup: Callable[[Ref], Any]) -> Any:
    """``value`` with every reference replaced by ``lookup(ref)``."""
    if isinstance(value, str):
        whole = REFERENCE.fullmatch(value.strip())
        if whole is not None:
            return lookup(Ref(whole[1], whole[2], whole[3]))
        return REFERENCE.sub(lambda m: _text(lookup(Ref(m[1], m[2], m[3]))), value)
    if isinstance(value, dict):
        return {key: substitute(item, lookup) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, lookup) for item in value]
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def output_value(outputs: dict[str, Any], path: str) -> Any:
    """``outputs[a][b]`` for the path ``a.b`` (``metrics.roc_auc``); KeyError if absent."""
    value: Any = outputs
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(path)
        value = value[part]
    return value
