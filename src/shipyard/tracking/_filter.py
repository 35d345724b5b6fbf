"""MLflow's run search syntax, parsed: ``metrics.auc > 0.8 and params.depth = '6'``.

A filter is comparisons joined by ``and`` (no ``or``, as in MLflow). Each names an
entity type (``metrics``, ``params``, ``tags``, ``attributes``, or their MLflow aliases;
bare keys are attributes), a key (bare, or in backticks or double quotes), a comparator
and a constant. Parsing checks everything that does not need the database; every
problem is an ``InvalidInput`` naming the field and the 1-based character position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from shipyard.errors import InvalidInput

Kind = Literal["metric", "param", "tag", "attribute"]
Value = float | str | tuple[str, ...] | None

MAX_FILTER = 10_000
_KINDS: dict[str, Kind] = {
    **dict.fromkeys(("metric", "metrics"), "metric"),
    **dict.fromkeys(("param", "params", "parameter", "parameters"), "param"),
    **dict.fromkeys(("tag", "tags"), "tag"),
    **dict.fromkeys(("attribute", "attributes", "attr", "run"), "attribute"),
}
STRING_ATTRIBUTES = ("run_id", "run_name", "status", "user_id", "parent_run_id")
NUMERIC_ATTRIBUTES = ("start_time", "end_time")
_ATTRIBUTE_ALIASES = {"created": "start_time", "run name": "run_name", "name": "run_name"}
_NUMERIC_OPS = ("=", "!=", "<", "<=", ">", ">=")
_STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
_NULL_OPS = ("IS NULL", "IS NOT NULL")
COMPARATORS: dict[str, tuple[str, ...]] = {
    "metric": _NUMERIC_OPS,
    "param": _STRING_OPS + _NULL_OPS,
    "tag": _STRING_OPS + _NULL_OPS,
    "string attribute": _STRING_OPS,
    "numeric attribute": _NUMERIC_OPS,
}

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
  | (?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
  | (?P<backtick>`[^`]*`)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),.])
  | (?P<word>[A-Za-z_][\w\-/:]*|\d[\w\-/:]*)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int  # 1-based character position in the filter

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


@dataclass(frozen=True)
class Comparison:
    """One ``<kind>.<key> <op> <value>``; values are typed by what the key compares to."""

    kind: Kind
    key: str
    op: str
    value: Value
    position: int


@dataclass(frozen=True)
class OrderKey:
    """One ``order_by`` entry: what to sort by and which way."""

    kind: Kind
    key: str
    ascending: bool


def _fail(where: str, position: int | None, problem: str) -> InvalidInput:
    at = f"at position {position}: " if position is not None else ""
    return InvalidInput(f"{at}{problem}", field=where)


def tokenize(text: str, where: str = "filter") -> list[Token]:
    """The filter's tokens without whitespace; an unknown character is refused."""
    if len(text) > MAX_FILTER:
        raise _fail(where, None, f"must be at most {MAX_FILTER} characters")
    tokens, index = [], 0
    while index < len(text):
        match = _TOKEN.match(text, index)
        if match is None:
            problem = f"unexpected character {text[index]!r}"
            if text[index] in "'\"`":
                problem = f"unterminated quote {text[index]}"
            raise _fail(where, index + 1, problem)
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(Token(kind, match.group(), index + 1))
        index = match.end()
    return tokens


class _Reader:
    """A cursor over tokens that knows where the filter ends, for error positions."""

    def __init__(self, text: str, where: str) -> None:
        self.tokens = tokenize(text, where)
        self.index = 0
        self.end = len(text) + 1
        self.where = where

    def peek(self, offset: int = 0) -> Token | None:
        at = self.index + offset
        return self.tokens[at] if at < len(self.tokens) else None

    def take(self, expected: str) -> Token:
        token = self.peek()
        if token is None:
            raise self.error(None, f"expected {expected}, found the end")
        self.index += 1
        return token

    def error(self, token: Token | None, problem: str) -> InvalidInput:
        return _fail(self.where, token.position if token else self.end, problem)


def _unquote(token: Token) -> str:
    if token.kind == "backtick":
        return token.text[1:-1]
    quote = token.text[0]
    return token.text[1:-1].replace(quote * 2, quote)


def _key_part(reader: _Reader) -> str:
    token = reader.take("a key")
    if token.kind in ("backtick", "string"):
        return _unquote(token)
    if token.kind != "word":
        raise reader.error(token, f"expected a key, found {token.text!r}")
    parts = [token.text]
    while (dot := reader.peek()) is not None and dot.text == "." and dot.kind == "punct":
        following = reader.peek(1)
        if following is None or following.kind != "word" or following.position != dot.position + 1:
            break
        reader.index += 2
        parts.append(following.text)
    return ".".join(parts)


def _identifier(reader: _Reader) -> tuple[Kind, str, Token]:
    """``<type>.<key>`` (or a bare attribute key): its kind, the key, its first token."""
    first = reader.take("an identifier such as metrics.auc")
    if first.kind not in ("word", "backtick"):
        raise reader.error(
            first, f"expected an identifier such as metrics.auc, found {first.text!r}"
        )
    head = _unquote(first) if first.kind == "backtick" else first.text
    dot = reader.peek()
    if dot is not None and dot.text == "." and dot.kind == "punct":
        kind = _KINDS.get(head.lower())
        if kind is None:
            raise reader.error(
                first,
                f"unknown entity type {head!r}; use metrics, params, tags or attributes",
            )
        reader.index += 1
        key = _key_part(reader)
    else:
        kind, key = "attribute", head
    if not key:
        raise reader.error(first, "the key is empty")
    if kind == "attribute":
        key = _ATTRIBUTE_ALIASES.get(key.lower(), key)
        if key not in STRING_ATTRIBUTES + NUMERIC_ATTRIBUTES:
            known = ", ".join(STRING_ATTRIBUTES + NUMERIC_ATTRIBUTES)
            raise reader.error(first, f"unknown attribute {key!r}; one of {known}")
    return kind, key, first


def _comparator(reader: _Reader) -> tuple[str, Token]:
    token = reader.take("a comparator")
    if token.kind == "op":
        return ("!=" if token.text == "<>" else token.text), token
    words = [token.upper]
    if words[0] in ("NOT", "IS"):
        nxt = reader.peek()
        if nxt is not None and nxt.upper in ("IN", "NOT", "NULL"):
            reader.index += 1
            words.append(nxt.upper)
            if words == ["IS", "NOT"]:
                words.append(reader.take("NULL").upper)
    op = " ".join(words)
    if op not in ("LIKE", "ILIKE", "IN", "NOT IN", *_NULL_OPS):
        raise reader.error(
            token,
            f"expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN), found {token.text!r}",
        )
    return op, token


def _string_list(reader: _Reader) -> tuple[str, ...]:
    opening = reader.take("(")
    if opening.text != "(":
        raise reader.error(
            opening, f"expected a parenthesized list of strings, found {opening.text!r}"
        )
    values: list[str] = []
    while True:
        token = reader.take("a quoted string")
        if token.kind != "string":
            raise reader.error(token, f"expected a quoted string, found {token.text!r}")
        values.append(_unquote(token))
        separator = reader.take("',' or ')'")
        if separator.text == ")":
            return tuple(values)
        if separator.text != ",":
            raise reader.error(separator, f"expected ',' or ')', found {separator.text!r}")


def _category(kind: Kind, key: str) -> str:
    if kind != "attribute":
        return kind
    return "numeric attribute" if key in NUMERIC_ATTRIBUTES else "string attribute"


def _comparison(reader: _Reader) -> Comparison:
    kind, key, first = _identifier(reader)
    op, op_token = _comparator(reader)
    category = _category(kind, key)
    if op not in COMPARATORS[category]:
        allowed = ", ".join(COMPARATORS[category])
        raise reader.error(op_token, f"{op} does not apply to {category} {key!r}; use {allowed}")
    value: Value
    if op in _NULL_OPS:
        value = None
    elif op in ("IN", "NOT IN"):
        value = _string_list(reader)
    else:
        token = reader.take("a value")
        if category in ("metric", "numeric attribute"):
            if token.kind != "number":
                raise reader.error(
                    token, f"{category} {key!r} compares to a number, not {token.text!r}"
                )
            value = float(token.text)
        else:
            if token.kind != "string":
                raise reader.error(
                    token, f"{category} {key!r} compares to a quoted string, not {token.text!r}"
                )
            value = _unquote(token)
    return Comparison(kind, key, op, value, first.position)


def parse_filter(text: str) -> list[Comparison]:
    """The comparisons of an MLflow-syntax filter; an empty filter matches every run."""
    reader = _Reader(text, "filter")
    comparisons: list[Comparison] = []
    if not reader.tokens:
        return comparisons
    while True:
        comparisons.append(_comparison(reader))
        joiner = reader.peek()
        if joiner is None:
            return comparisons
        reader.index += 1
        if joiner.upper == "OR":
            raise reader.error(joiner, "OR is not supported; join comparisons with AND")
        if joiner.upper != "AND":
            raise reader.error(joiner, f"expected AND or the end, found {joiner.text!r}")


def parse_order_by(entries: list[str]) -> list[OrderKey]:
    """``["metrics.auc DESC", "params.depth"]`` as sort keys (ascending unless DESC)."""
    keys = []
    for index, entry in enumerate(entries):
        reader = _Reader(entry, f"order_by.{index}")
        if not reader.tokens:
            raise reader.error(None, "is empty")
        kind, key, _ = _identifier(reader)
        direction = reader.peek()
        ascending = True
        if direction is not None:
            if direction.upper not in ("ASC", "DESC"):
                raise reader.error(direction, f"expected ASC or DESC, found {direction.text!r}")
            ascending = direction.upper == "ASC"
            reader.index += 1
        if (extra := reader.peek()) is not None:
            raise reader.error(extra, f"unexpected {extra.text!r} after the sort key")
        keys.append(OrderKey(kind, key, ascending))
    return keys
