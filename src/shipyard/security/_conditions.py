"""A statement's ``Condition`` block, compiled once when its policy is loaded.

The semantics are AWS IAM's: every operator and every key in the block must hold (AND);
the values listed for one key are alternatives (OR). Key names are case-insensitive;
string values are case-sensitive unless the operator ends in ``IgnoreCase``. When the key
is absent from the request, an operator is false, except a negated one (``StringNotEquals``,
``NotIpAddress``...), which is true; ``...IfExists`` is true, and so is ``ForAllValues:``
(true on an empty or absent set), while ``ForAnyValue:`` is false. ``Null`` tests presence.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

ContextValue = str | list[str]
Compare = Callable[[str, Any], bool]

_ALL, _ANY = "ForAllValues:", "ForAnyValue:"


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """Whether ``value`` matches ``pattern``: ``*`` is any run of characters, ``?`` any one.

    A two-pointer scan that backtracks only to the last ``*``: time is bounded by
    len(pattern) * len(value), however many wildcards a stored policy holds (a regular
    expression built from ``*a*a*a...`` backtracks exponentially).
    """
    if ignore_case:
        pattern, value = pattern.casefold(), value.casefold()
    p = v = 0
    star, resume = -1, 0
    while v < len(value):
        if p < len(pattern) and pattern[p] == "*":
            star, resume = p, v
            p += 1
        elif p < len(pattern) and pattern[p] in ("?", value[v]):
            p += 1
            v += 1
        elif star >= 0:
            p, resume = star + 1, resume + 1
            v = resume
        else:
            return False
    return pattern[p:].strip("*") == ""


class ConditionError(ValueError):
    """A condition block that cannot be compiled; ``field`` is its path under ``Condition``."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


# Values as written in a policy: each family parses its own, refusing what does not fit.


def _string(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ValueError("must be a string")


def _number(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("must be a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _date(value: object) -> datetime:
    """ISO 8601 (a date, or a date and time; UTC when no offset) or epoch seconds."""
    if isinstance(value, bool):
        raise ValueError("must be a date")
    if isinstance(value, (int, float)) or (isinstance(value, str) and _is_number(value)):
        return datetime.fromtimestamp(float(value), UTC)
    if not isinstance(value, str):
        raise ValueError("must be a date")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a date: write ISO 8601 ('2026-12-31T23:59:59Z') or epoch seconds"
            ) from None
        parsed = datetime(day.year, day.month, day.day)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"{value!r} is not a boolean: write true or false")


def _network(value: object) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if not isinstance(value, str):
        raise ValueError("must be an IP address or CIDR block")
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an IP address or CIDR block (e.g. '203.0.113.0/24', '2001:db8::/32')"
        ) from None


# Comparisons of one request value (always text, as it travels) with one policy value.


def _numeric(test: Callable[[Decimal, Decimal], bool]) -> Compare:
    def compare(seen: str, wanted: Any) -> bool:
        try:
            return test(_number(seen), wanted)
        except ValueError:
            return False

    return compare


def _dated(test: Callable[[datetime, datetime], bool]) -> Compare:
    def compare(seen: str, wanted: Any) -> bool:
        try:
            return test(_date(seen), wanted)
        except ValueError:
            return False

    return compare


def _in_network(seen: str, wanted: Any) -> bool:
    try:
        address = ipaddress.ip_address(seen.strip())
    except ValueError:
        return False
    return address.version == wanted.version and address in wanted


def _bool_equals(seen: str, wanted: Any) -> bool:
    return seen.strip().lower() == ("true" if wanted else "false")


@dataclass(frozen=True)
class _Family:
    parse: Callable[[object], Any]
    kind: str
    compare: Compare
    negated: bool = False


def _ordered(
    kind: str, parse: Callable[[object], Any], wrap: Callable[..., Compare]
) -> dict[str, _Family]:
    return {
        "Equals": _Family(parse, kind, wrap(lambda a, b: a == b)),
        "NotEquals": _Family(parse, kind, wrap(lambda a, b: a == b), negated=True),
        "LessThan": _Family(parse, kind, wrap(lambda a, b: a < b)),
        "LessThanEquals": _Family(parse, kind, wrap(lambda a, b: a <= b)),
        "GreaterThan": _Family(parse, kind, wrap(lambda a, b: a > b)),
        "GreaterThanEquals": _Family(parse, kind, wrap(lambda a, b: a >= b)),
    }


def _casefolded(seen: str, wanted: Any) -> bool:
    return seen.casefold() == str(wanted).casefold()


def _like(seen: str, wanted: Any) -> bool:
    return glob_match(wanted, seen)


OPERATORS: dict[str, _Family] = {
    "StringEquals": _Family(_string, "string", lambda a, b: a == b),
    "StringNotEquals": _Family(_string, "string", lambda a, b: a == b, negated=True),
    "StringEqualsIgnoreCase": _Family(_string, "string", _casefolded),
    "StringNotEqualsIgnoreCase": _Family(_string, "string", _casefolded, negated=True),
    "StringLike": _Family(_string, "string", _like),
    "StringNotLike": _Family(_string, "string", _like, negated=True),
    **{f"Numeric{k}": v for k, v in _ordered("numeric", _number, _numeric).items()},
    **{f"Date{k}": v for k, v in _ordered("date", _date, _dated).items()},
    "Bool": _Family(_bool, "bool", _bool_equals),
    "IpAddress": _Family(_network, "ip", _in_network),
    "NotIpAddress": _Family(_network, "ip", _in_network, negated=True),
    "Null": _Family(_bool, "null", lambda a, b: False),
}


# Context keys a policy may test, with the type of their value. ``string-set`` keys carry
# several values and take ForAllValues:/ForAnyValue:; tag families take any tag key.

CONTEXT_KEYS: dict[str, str] = {
    "sy:SourceIp": "ip",
    "sy:SecureTransport": "bool",
    "sy:CurrentTime": "date",
    "sy:EpochTime": "numeric",
    "sy:PrincipalName": "string",
    "sy:TagKeys": "string-set",
    # supplied by the operation being authorized
    "sy:MaxRuntime": "numeric",
    "sy:Cpus": "numeric",
    "sy:MemoryMb": "numeric",
    "sy:EndpointProduction": "bool",
    "sy:DataCapture": "bool",
    "sy:ModelApprovalStatus": "string",
}
TAG_FAMILIES = ("sy:PrincipalTag/", "sy:ResourceTag/", "sy:RequestTag/")
_BY_LOWER = {name.lower(): name for name in CONTEXT_KEYS}


def key_problem(key: str, kind: str, qualifier: str | None) -> str | None:
    """Why ``key`` cannot be tested by an operator of ``kind``, or None when it can."""
    lowered = key.lower()
    family = next((f for f in TAG_FAMILIES if lowered.startswith(f.lower())), None)
    if family is not None:
        if not key[len(family) :]:
            return f"{key!r} needs a tag key after {family!r}"
        key_type = "string"
    elif lowered in _BY_LOWER:
        key_type = CONTEXT_KEYS[_BY_LOWER[lowered]]
    else:
        import difflib

        known = [*CONTEXT_KEYS, *(f + "<key>" for f in TAG_FAMILIES)]
        near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        return f"unknown condition key {key!r}{hint}"
    if key_type == "string-set" and qualifier is None and kind != "null":
        return f"{key!r} holds several values: use 'ForAllValues:' or 'ForAnyValue:'"
    if kind in ("ip", "numeric", "date", "bool") and key_type != kind:
        return f"{key!r} holds a {key_type} value, which a {kind} operator cannot test"
    return None


class Facts:
    """The request's context keys, looked up by lower-cased name. Tag families are loaded
    on first use (``tags`` maps a family's prefix, ``sy:PrincipalTag/``, to a loader)."""

    def __init__(
        self,
        values: Mapping[str, ContextValue],
        tags: Mapping[str, Callable[[], Mapping[str, str]]] | None = None,
    ) -> None:
        self._values = {k.lower(): v for k, v in values.items()}
        self._tags = {k.lower(): v for k, v in (tags or {}).items()}
        self._loaded: dict[str, dict[str, str]] = {}

    def get(self, key: str) -> ContextValue | None:
        found = self._values.get(key)
        if found is not None:
            return found
        prefix, slash, tag = key.partition("/")
        if not slash or prefix + "/" not in self._tags:
            return None
        loaded = self._loaded.get(prefix)
        if loaded is None:
            loader = self._tags[prefix + "/"]
            loaded = self._loaded[prefix] = {k.lower(): v for k, v in loader().items()}
        return loaded.get(tag)

    def known(self) -> dict[str, ContextValue]:
        """The plain (non-tag) values, for reports."""
        return dict(self._values)


NO_FACTS = Facts({})


class Transport(NamedTuple):
    """How a request arrived: the client's address and whether over TLS (None: unknown,
    so ``sy:SourceIp`` / ``sy:SecureTransport`` are absent, as for in-process calls)."""

    source_ip: str | None = None
    secure: bool | None = None


NO_TRANSPORT = Transport()


@dataclass(frozen=True)
class Clause:
    """One operator applied to one key, with the policy's values already parsed."""

    operator: str
    key: str
    family: _Family
    qualifier: str | None
    if_exists: bool
    values: tuple[Any, ...]

    def holds(self, facts: Facts) -> bool:
        seen = facts.get(self.key.lower())
        if self.family.kind == "null":
            return (seen is None) is bool(self.values[0])
        if seen is None:
            if self.qualifier == _ALL or self.if_exists:
                return True
            return self.family.negated and self.qualifier is None
        many = seen if isinstance(seen, list) else [seen]
        if self.qualifier is None:
            matched = any(self._matches(one) for one in many)
            return not matched if self.family.negated else matched
        tests = (self._matches(one) != self.family.negated for one in many)
        return all(tests) if self.qualifier == _ALL else any(tests)

    def _matches(self, seen: str) -> bool:
        return any(self.family.compare(seen, wanted) for wanted in self.values)

    def describe(self) -> str:
        values = [str(v).lower() if isinstance(v, bool) else str(v) for v in self.values]
        return f"{self.operator} {self.key} {values}"


@dataclass(frozen=True)
class CompiledCondition:
    """Every clause of a statement's Condition; it holds when all of them do."""

    clauses: tuple[Clause, ...]

    def holds(self, facts: Facts) -> bool:
        return all(clause.holds(facts) for clause in self.clauses)

    def first_failing(self, facts: Facts) -> Clause | None:
        """The first clause that does not hold (None when the condition holds)."""
        return next((c for c in self.clauses if not c.holds(facts)), None)

    def check_keys(self) -> tuple[str, str] | None:
        """(message, field) for the first key the catalog does not know, or None."""
        for clause in self.clauses:
            problem = key_problem(clause.key, clause.family.kind, clause.qualifier)
            if problem is not None:
                return problem, f"Condition.{clause.operator}.{clause.key}"
        return None


def _split_operator(operator: str) -> tuple[str | None, str, bool]:
    qualifier = next((q for q in (_ALL, _ANY) if operator.startswith(q)), None)
    base = operator[len(qualifier) :] if qualifier else operator
    if_exists = base.endswith("IfExists") and base != "IfExists"
    return qualifier, base[: -len("IfExists")] if if_exists else base, if_exists


def compile_condition(block: Mapping[str, Any]) -> CompiledCondition | None:
    """Parse a Condition block, raising ConditionError naming the bad operator, key or value."""
    clauses: list[Clause] = []
    for operator, keys in block.items():
        qualifier, base, if_exists = _split_operator(operator)
        family = OPERATORS.get(base)
        if family is None:
            import difflib

            near = difflib.get_close_matches(base, list(OPERATORS), n=1, cutoff=0.6)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise ConditionError(f"unknown condition operator {operator!r}{hint}", operator)
        if family.kind == "null" and (qualifier or if_exists):
            raise ConditionError("Null takes no ForAllValues:/ForAnyValue: or IfExists", operator)
        if not isinstance(keys, Mapping) or not keys:
            raise ConditionError("must map condition keys to a value or a list of values", operator)
        for key, given in keys.items():
            clauses.append(_clause(operator, key, family, qualifier, if_exists, given))
    return CompiledCondition(tuple(clauses)) if clauses else None


def _clause(
    operator: str,
    key: str,
    family: _Family,
    qualifier: str | None,
    if_exists: bool,
    given: object,
) -> Clause:
    field = f"{operator}.{key}"
    if not isinstance(key, str) or not key:
        raise ConditionError("a condition key must be a non-empty string", field)
    listed = isinstance(given, list)
    raw: Sequence[object] = given if isinstance(given, list) else [given]
    if not raw:
        raise ConditionError("needs at least one value", field)
    if family.kind == "null" and len(raw) != 1:
        raise ConditionError("Null takes one value, true or false", field)
    values = []
    for j, value in enumerate(raw):
        try:
            values.append(family.parse(value))
        except ValueError as exc:
            where = f"{field}.{j}" if listed else field
            raise ConditionError(f"{exc} (for {operator})", where) from None
    return Clause(operator, key, family, qualifier, if_exists, tuple(values))
