"""Rollback alarms: a tiny language of conditions on a variant's live metrics.

    expression := all ("or" all)*
    all        := term ("and" term)*
    term       := condition | "(" expression ")"
    condition  := METRIC (">" | ">=" | "<" | "<=") NUMBER [UNIT]

Metrics: ``error_rate`` (with ``%``, or a fraction from 0 to 1), ``p50_latency``,
``p95_latency``, ``p99_latency`` (``ms`` or ``s``; a bare number is ms) and
``requests`` (a count). A metric with no data yet (no requests) never trips.
``requests`` below a bound can only be judged once a bake is over.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shipyard.errors import InvalidInput

FIELD = "rollback_on"
METRICS = ("error_rate", "p50_latency", "p95_latency", "p99_latency", "requests")
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)(?P<unit>%|ms|s)?(?![\w.%])"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>>=|<=|>|<)|(?P<paren>[()]))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int
    unit: str = ""


@dataclass(frozen=True)
class Condition:
    """``metric op threshold``: error rate as a fraction, latency in ms, requests as a count."""

    metric: str
    op: str
    threshold: float
    text: str

    def holds(self, values: Mapping[str, float | None], *, final: bool) -> bool:
        value = values.get(self.metric)
        if value is None:
            return False
        if self.metric == "requests" and self.op in ("<", "<=") and not final:
            return False
        return _OPERATORS[self.op](value, self.threshold)

    def describe(self, values: Mapping[str, float | None]) -> str:
        """E.g. ``error_rate 3.2% > 1%``."""
        return f"{self.metric} {format_metric(self.metric, values.get(self.metric))} {self.text}"


@dataclass(frozen=True)
class AnyOf:
    """Trips when any of its parts trips."""

    parts: tuple[AllOf | AnyOf | Condition, ...]


@dataclass(frozen=True)
class AllOf:
    """Trips when all of its parts trip."""

    parts: tuple[AllOf | AnyOf | Condition, ...]


Node = AnyOf | AllOf | Condition


@dataclass(frozen=True)
class Alarm:
    """A parsed rollback expression; ``tripped`` says which conditions fired, if it fires."""

    source: str
    root: Node | None

    def tripped(
        self, values: Mapping[str, float | None], *, final: bool = False
    ) -> list[Condition]:
        """The conditions that make the alarm fire, or [] when it does not."""
        return [] if self.root is None else _fired(self.root, values, final) or []


def _fired(node: Node, values: Mapping[str, float | None], final: bool) -> list[Condition] | None:
    if isinstance(node, Condition):
        return [node] if node.holds(values, final=final) else None
    if isinstance(node, AnyOf):
        for part in node.parts:
            fired = _fired(part, values, final)
            if fired:
                return fired
        return None
    collected: list[Condition] = []
    for part in node.parts:
        fired = _fired(part, values, final)
        if not fired:
            return None
        collected.extend(fired)
    return collected


def format_metric(metric: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if metric == "error_rate":
        return f"{100 * value:.3g}%"
    if metric == "requests":
        return f"{value:.0f}"
    return f"{value:.3g}ms"


def _tokens(text: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if not text[position:].strip():
                break
            bad = text[position:].lstrip()
            start = len(text) - len(bad)
            raise InvalidInput(
                f"unexpected {bad.split()[0]!r} at position {start + 1}: expected a metric "
                f"({', '.join(METRICS)}), a comparison (> >= < <=), a number, 'and', 'or' "
                "or parentheses",
                field=FIELD,
            )
        kind = next(k for k in ("number", "word", "op", "paren") if match.group(k) is not None)
        unit = (match.group("unit") or "") if kind == "number" else ""
        tokens.append(_Token(kind, match.group(kind) + unit, match.start(kind) + 1, unit.lower()))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token | None:
        token = self.peek()
        self.index += token is not None
        return token

    def fail(self, token: _Token | None, expected: str) -> InvalidInput:
        where = f"{token.text!r} at position {token.position}" if token else "the end"
        return InvalidInput(f"expected {expected}, found {where}", field=FIELD)

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text.lower() == word:
            self.index += 1
            return True
        return False

    def expression(self) -> Node:
        parts = [self.all_of()]
        while self.keyword("or"):
            parts.append(self.all_of())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def all_of(self) -> Node:
        parts = [self.term()]
        while self.keyword("and"):
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def term(self) -> Node:
        token = self.take()
        if token is not None and token.text == "(":
            inner = self.expression()
            closing = self.take()
            if closing is None or closing.text != ")":
                raise self.fail(closing, "')'")
            return inner
        if token is None or token.kind != "word" or token.text.lower() not in METRICS:
            raise self.fail(token, f"a metric ({', '.join(METRICS)}) or '('")
        metric = token.text.lower()
        op = self.take()
        if op is None or op.kind != "op":
            raise self.fail(op, f"a comparison (> >= < <=) after {metric}")
        number = self.take()
        if number is None or number.kind != "number":
            raise self.fail(number, f"a number after {metric} {op.text}")
        threshold = _threshold(metric, number)
        return Condition(metric, op.text, threshold, f"{op.text} {number.text}")


def _threshold(metric: str, token: _Token) -> float:
    value = float(token.text[: len(token.text) - len(token.unit)])
    unit = token.unit
    where = f"{token.text!r} at position {token.position}"
    if metric == "error_rate":
        if unit == "%":
            value /= 100
        elif unit:
            raise InvalidInput(f"{where}: error_rate takes % or a fraction", field=FIELD)
        if value > 1:
            raise InvalidInput(
                f"{where}: an error rate is at most 100% (write 5% or 0.05)", field=FIELD
            )
        return value
    if metric == "requests":
        if unit:
            raise InvalidInput(f"{where}: requests is a count, without a unit", field=FIELD)
        return value
    if unit == "%":
        raise InvalidInput(f"{where}: {metric} takes ms or s", field=FIELD)
    return value * 1000 if unit == "s" else value


def parse_alarm(text: str) -> Alarm:
    """Parse a rollback expression; an empty one never trips. Errors name the bad token."""
    if not text.strip():
        return Alarm(text, None)
    if len(text) > 1000:
        raise InvalidInput("is longer than 1000 characters", field=FIELD)
    parser = _Parser(text)
    root = parser.expression()
    leftover = parser.peek()
    if leftover is not None:
        raise parser.fail(leftover, "'and', 'or' or the end")
    return Alarm(text, root)
