"""Row filters: a small expression language parsed into a pyarrow compute expression.

    age > 30 and country = 'FR'
    not (status in ('lost', 'stolen') or "last seen" is null)

Comparisons (``= == != <> < <= > >=``), ``[not] in (...)``, ``is [not] null``, ``and``,
``or``, ``not`` and parentheses. Columns are bare names or double-quoted (``"a b"``);
strings are single-quoted (``''`` escapes a quote); numbers, ``true`` and ``false``.
Every column must exist and every literal must suit its column's type, checked here, so a
bad filter is refused (naming the field ``filter``) before a row is read. Nothing is ever
built into SQL or evaluated as code: the parse tree becomes a ``pyarrow.compute.Expression``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from shipyard.errors import InvalidInput

MAX_FILTER_CHARS = 10_000
MAX_DEPTH = 64

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<string>'(?:[^']|'')*')
      | (?P<quoted>"(?:[^"]|"")*")
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
      | (?P<op><=|>=|!=|<>|==|=|<|>)
      | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)
_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "null", "true", "false"})
_COMPARE: dict[str, Callable[[pc.Expression, Any], pc.Expression]] = {
    "=": lambda f, v: f == v,
    "==": lambda f, v: f == v,
    "!=": lambda f, v: f != v,
    "<>": lambda f, v: f != v,
    "<": lambda f, v: f < v,
    "<=": lambda f, v: f <= v,
    ">": lambda f, v: f > v,
    ">=": lambda f, v: f >= v,
}


@dataclass(frozen=True)
class _Token:
    kind: str  # number, string, column, keyword, op, punct, end
    text: str
    value: Any
    at: int


def _problem(message: str) -> InvalidInput:
    return InvalidInput(message, field="filter")


def _tokens(text: str) -> list[_Token]:
    found, at = [], 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        match = _TOKEN.match(text, at)
        if match is None or match.lastgroup is None:
            start = len(text[at:]) - len(text[at:].lstrip()) + at
            raise _problem(f"unexpected character {text[start]!r} at position {start + 1}")
        kind, raw = match.lastgroup, match.group(match.lastgroup)
        start = match.start(kind) + 1
        if kind == "number":
            value: Any = float(raw) if any(c in raw for c in ".eE") else int(raw)
        elif kind == "string":
            value = raw[1:-1].replace("''", "'")
        elif kind == "quoted":
            kind, value = "column", raw[1:-1].replace('""', '"')
        elif kind == "word" and raw.lower() in _KEYWORDS:
            kind, value = "keyword", raw.lower()
        elif kind == "word":
            kind, value = "column", raw
        else:
            value = raw
        found.append(_Token(kind, raw, value, start))
        at = match.end()
    found.append(_Token("end", "", None, len(text) + 1))
    return found


class _Parser:
    """Recursive descent over the tokens, checking columns and literals against ``schema``."""

    def __init__(self, text: str, schema: pa.Schema) -> None:
        self.tokens = _tokens(text)
        self.index = 0
        self.schema = schema

    def parse(self) -> pc.Expression:
        expression = self.either(0)
        if self.peek().kind != "end":
            raise self.unexpected("'and', 'or' or the end of the filter")
        return expression

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def accept(self, kind: str, value: str) -> bool:
        token = self.peek()
        if token.kind == kind and token.value == value:
            self.index += 1
            return True
        return False

    def expect(self, kind: str, value: str) -> None:
        if not self.accept(kind, value):
            raise self.unexpected(repr(value))

    def unexpected(self, wanted: str) -> InvalidInput:
        token = self.peek()
        seen = "the end of the filter" if token.kind == "end" else repr(token.text)
        return _problem(f"expected {wanted} at position {token.at}, found {seen}")

    def either(self, depth: int) -> pc.Expression:
        expression = self.both(depth)
        while self.accept("keyword", "or"):
            expression = expression | self.both(depth)
        return expression

    def both(self, depth: int) -> pc.Expression:
        expression = self.unary(depth)
        while self.accept("keyword", "and"):
            expression = expression & self.unary(depth)
        return expression

    def unary(self, depth: int) -> pc.Expression:
        if depth > MAX_DEPTH:
            raise _problem(f"is nested more than {MAX_DEPTH} levels deep")
        if self.accept("keyword", "not"):
            return ~self.unary(depth + 1)
        if self.accept("punct", "("):
            inner = self.either(depth + 1)
            self.expect("punct", ")")
            return inner
        return self.predicate()

    def predicate(self) -> pc.Expression:
        token = self.take()
        if token.kind != "column":
            self.index -= 1
            raise self.unexpected("a column name")
        column = self.column(token)
        target = pc.field(column.name)
        if self.accept("keyword", "is"):
            negated = self.accept("keyword", "not")
            self.expect("keyword", "null")
            return ~target.is_null() if negated else target.is_null()
        negated = self.accept("keyword", "not")
        if self.accept("keyword", "in"):
            values = self.value_list(column)
            return ~target.isin(values) if negated else target.isin(values)
        if negated:
            raise self.unexpected("'in'")
        operator = self.take()
        if operator.kind != "op":
            self.index -= 1
            raise self.unexpected("a comparison (=, !=, <, <=, >, >=), 'in' or 'is'")
        literal = self.literal(column)
        return _COMPARE[operator.value](target, literal)

    def column(self, token: _Token) -> pa.Field:
        index = self.schema.get_field_index(token.value)
        if index < 0:
            names = ", ".join(self.schema.names)
            raise _problem(f"no column {token.value!r} at position {token.at} (columns: {names})")
        return self.schema.field(index)

    def value_list(self, column: pa.Field) -> pa.Array:
        self.expect("punct", "(")
        values = [self.literal(column)]
        while self.accept("punct", ","):
            values.append(self.literal(column))
        self.expect("punct", ")")
        try:
            return pa.array([v.as_py() for v in values]).cast(_value_type(column.type))
        except (pa.ArrowException, OverflowError):
            raise _problem(f"the values do not all fit column {column.name!r}") from None

    def literal(self, column: pa.Field) -> pa.Scalar:
        token = self.take()
        if token.kind == "keyword" and token.value == "null":
            raise _problem(
                f"cannot compare with null at position {token.at}; use 'is null' or 'is not null'"
            )
        if token.kind == "keyword" and token.value in ("true", "false"):
            value: Any = token.value == "true"
        elif token.kind in ("number", "string"):
            value = token.value
        else:
            self.index -= 1
            raise self.unexpected("a value (a number, a 'string', true or false)")
        return _typed(value, column, token)


def _value_type(arrow_type: pa.DataType) -> pa.DataType:
    return arrow_type.value_type if pat.is_dictionary(arrow_type) else arrow_type


def _typed(value: Any, column: pa.Field, token: _Token) -> pa.Scalar:
    """``value`` as a scalar of the column's type; InvalidInput when it cannot be one."""
    arrow_type = _value_type(column.type)
    mismatch = _problem(
        f"{token.text} at position {token.at} cannot be compared with column "
        f"{column.name!r} of type {arrow_type}"
    )
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if pat.is_integer(arrow_type) or pat.is_floating(arrow_type) or pat.is_decimal(arrow_type):
        if not is_number:
            raise mismatch
        return _scalar(value, arrow_type if isinstance(value, int) else None, mismatch)
    if pat.is_boolean(arrow_type):
        if not isinstance(value, bool):
            raise mismatch
        return pa.scalar(value)
    if pat.is_string(arrow_type) or pat.is_large_string(arrow_type):
        if not isinstance(value, str):
            raise mismatch
        return pa.scalar(value, type=arrow_type)
    if pat.is_temporal(arrow_type) and isinstance(value, str):
        return _temporal(value, arrow_type, mismatch)
    raise mismatch


def _scalar(value: Any, arrow_type: pa.DataType | None, mismatch: InvalidInput) -> pa.Scalar:
    try:
        return pa.scalar(value, type=arrow_type)
    except (pa.ArrowInvalid, OverflowError):
        # out of the column's range: compare as a wider number (it matches no stored value)
        try:
            return pa.scalar(float(value))
        except OverflowError:
            raise mismatch from None


def _temporal(value: str, arrow_type: pa.DataType, mismatch: InvalidInput) -> pa.Scalar:
    """An ISO 8601 date, time or timestamp as the column's type; a zone-less text on a
    zoned column is read as UTC, a zoned text on a zone-less column is converted to UTC."""
    try:
        if pat.is_time(arrow_type):
            return pa.scalar(time.fromisoformat(value), type=arrow_type)
        parsed = datetime.fromisoformat(value)
        if pat.is_date(arrow_type):
            return pa.scalar(parsed.date(), type=arrow_type)
        if pat.is_timestamp(arrow_type) and arrow_type.tz is not None and parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        elif parsed.tzinfo is not None and not (
            pat.is_timestamp(arrow_type) and arrow_type.tz is not None
        ):
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        return pa.scalar(parsed, type=arrow_type)
    except (ValueError, TypeError, OverflowError, pa.ArrowException):
        raise mismatch from None


def parse_filter(text: str, schema: pa.Schema) -> pc.Expression:
    """The expression that keeps the rows ``text`` describes; InvalidInput naming ``filter``."""
    if len(text) > MAX_FILTER_CHARS:
        raise _problem(f"is longer than {MAX_FILTER_CHARS} characters")
    if not text.strip():
        raise _problem("is empty; leave it out to read every row")
    return _Parser(text, schema).parse()
