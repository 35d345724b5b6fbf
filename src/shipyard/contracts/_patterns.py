"""Infer a simple character-class pattern that every value of a string column matches."""

from __future__ import annotations

from itertools import groupby

import pyarrow as pa
import pyarrow.compute as pc

MAX_SHAPES = 50
_CLASSES = {"A": "[A-Z]", "a": "[a-z]", "9": r"\d"}
_SPECIAL = set(r".^$*+?()[]{}|\-/")


def infer_pattern(present: pa.ChunkedArray | pa.Array) -> str | None:
    """An anchored regex like ``^[A-Z]{2}\\d{4}$`` that all values match, or None.

    Each value's shape maps upper-case letters, lower-case letters and digits to their
    class and keeps other characters; a pattern exists when every shape has the same
    sequence of runs, which may differ in length.
    """
    if len(present) == 0:
        return None
    values = pc.unique(present)
    shapes = values
    for pattern, marker in (("[A-Z]", "A"), ("[a-z]", "a"), ("[0-9]", "9")):
        shapes = pc.replace_substring_regex(shapes, pattern, marker)
    distinct = pc.unique(shapes).to_pylist()
    if len(distinct) > MAX_SHAPES or "" in distinct:
        return None
    runs = [[(char, len(list(group))) for char, group in groupby(shape)] for shape in distinct]
    sequence = [char for char, _ in runs[0]]
    if any([char for char, _ in r] != sequence for r in runs):
        return None
    parts = []
    for position, char in enumerate(sequence):
        lengths = [r[position][1] for r in runs]
        parts.append(_token(char) + _quantifier(min(lengths), max(lengths)))
    pattern = "^" + "".join(parts) + "$"
    matched = pc.all(pc.match_substring_regex(values, pattern)).as_py()
    return pattern if matched else None


def _token(char: str) -> str:
    if char in _CLASSES:
        return _CLASSES[char]
    return "\\" + char if char in _SPECIAL else char


def _quantifier(low: int, high: int) -> str:
    if low == high:
        return "" if low == 1 else f"{{{low}}}"
    return f"{{{low},{high}}}"
