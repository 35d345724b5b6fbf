"""IAM-style policy documents and their evaluation: explicit Deny wins, default deny.

A statement names its actions with ``Action`` (these) or ``NotAction`` (all but these),
and its resources with ``Resource`` or ``NotResource``, as AWS IAM does: it applies to a
request when the action and the resource both fall in what it names. Documents are
checked against the action table when stored (``PolicyDocument.parse``), not when read
back (``model_validate``), so a policy stored before an action was renamed still loads.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from shipyard.errors import InvalidInput
from shipyard.security._actions import ACTIONS, RESOURCE_KINDS
from shipyard.security._conditions import (
    NO_FACTS,
    CompiledCondition,
    ConditionError,
    Facts,
    compile_condition,
    glob_match,
)

__all__ = ["glob_match"]

_PAIRS = (("Action", "NotAction"), ("Resource", "NotResource"))


class PolicyStatement(BaseModel):
    """One rule: Allow or Deny these actions (or all but these) on these resources (or all but)."""

    model_config = ConfigDict(extra="forbid")

    Sid: str | None = None
    Effect: Literal["Allow", "Deny"]
    Action: list[str] | None = Field(default=None, min_length=1)
    NotAction: list[str] | None = Field(default=None, min_length=1)
    Resource: list[str] | None = Field(default=None, min_length=1)
    NotResource: list[str] | None = Field(default=None, min_length=1)
    Condition: dict[str, Any] | None = None

    _condition: CompiledCondition | None = PrivateAttr(default=None)

    @field_validator("Action", "NotAction", "Resource", "NotResource", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _exactly_one_of_each(self) -> PolicyStatement:
        for positive, negative in _PAIRS:
            given = [name for name in (positive, negative) if getattr(self, name) is not None]
            if len(given) != 1:
                raise PydanticCustomError(
                    "exactly_one",
                    "a statement needs exactly one of {positive} or {negative}",
                    {
                        "positive": positive,
                        "negative": negative,
                        "field": negative if given else positive,
                    },
                )
        if self.Condition is not None:
            try:
                self._condition = compile_condition(self.Condition)
            except ConditionError as exc:
                raise PydanticCustomError(
                    "condition",
                    "{message}",
                    {"message": str(exc), "field": f"Condition.{exc.field}"},
                ) from None
        return self

    @property
    def condition(self) -> CompiledCondition | None:
        """The compiled Condition (None when the statement has none)."""
        return self._condition

    def applies_to_action(self, action: str) -> bool:
        """Whether ``action`` is among the statement's actions (case-insensitive)."""
        if self.Action is not None:
            return _matches(self.Action, action, True)
        return not _matches(self.NotAction or [], action, True)

    def applies_to_resource(self, *names: str) -> bool:
        """Whether the resource known by ``names`` is among the statement's resources.

        ``Resource`` matches when any name does; ``NotResource`` excepts the resource when
        any name is listed, so excepting ``sy:model/m/3`` holds although the same version
        is also known as ``sy:model/m``. Resource names are case-sensitive.
        """
        if self.Resource is not None:
            return any(_matches(self.Resource, name, False) for name in names)
        return not any(_matches(self.NotResource or [], name, False) for name in names)

    def applies_to_some_resource(self) -> bool:
        """False only for a ``NotResource`` that excludes every resource (``*`` or ``sy:*``)."""
        return self.Resource is not None or not any(
            _matches_everything(p) for p in self.NotResource or []
        )


class PolicyDocument(BaseModel):
    """A policy: a version tag and a list of statements."""

    model_config = ConfigDict(extra="forbid")

    Version: str = "2026-01-01"
    Statement: list[PolicyStatement] = Field(min_length=1)

    @classmethod
    def parse(cls, document: object) -> PolicyDocument:
        """Validate a document to be stored, naming the first bad field.

        Beyond its shape, every action must be a known one (or a wildcard that matches
        one) and every resource a well-formed ``sy:<kind>/<name>`` of a known kind.
        """
        try:
            parsed = cls.model_validate(document)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = [str(p) for p in first["loc"]]
            if first["type"] in ("exactly_one", "condition"):
                loc.append(str((first.get("ctx") or {})["field"]))
            raise InvalidInput(first["msg"], field=".".join(["document", *loc])) from None
        parsed.check_catalog()
        return parsed

    def check_catalog(self) -> None:
        """Raise InvalidInput naming the first unknown action or malformed resource."""
        for i, statement in enumerate(self.Statement):
            for key in ("Action", "NotAction", "Resource", "NotResource"):
                check = _action_problem if "Action" in key else _resource_problem
                for j, pattern in enumerate(getattr(statement, key) or []):
                    problem = check(pattern)
                    if problem is not None:
                        raise InvalidInput(problem, field=f"document.Statement.{i}.{key}.{j}")
            unknown = statement.condition.check_keys() if statement.condition else None
            if unknown is not None:
                raise InvalidInput(unknown[0], field=f"document.Statement.{i}.{unknown[1]}")


class Decision(Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit_deny"
    DEFAULT_DENY = "default_deny"


def _matches(patterns: list[str], value: str, ignore_case: bool) -> bool:
    return any(glob_match(p, value, ignore_case=ignore_case) for p in patterns)


def _matches_everything(pattern: str) -> bool:
    return pattern.strip("*") in ("", "sy:")


def evaluate(
    documents: Iterable[PolicyDocument], action: str, resource: str, facts: Facts = NO_FACTS
) -> Decision:
    """Decide one request: any matching Deny wins, else any matching Allow, else deny."""
    return evaluate_names(documents, action, (resource,), facts)


def evaluate_names(
    documents: Iterable[PolicyDocument],
    action: str,
    names: Sequence[str],
    facts: Facts = NO_FACTS,
) -> Decision:
    """Decide a request on one resource known by several ``names`` (``sy:model/m/3`` and
    ``sy:model/m``): a statement applies when its resources take in the resource under
    any name, and a ``NotResource`` listing any of its names excepts it, and its
    Condition (if any) holds for the request's ``facts``."""
    allowed = False
    for document in documents:
        for statement in document.Statement:
            if (
                statement.applies_to_action(action)
                and statement.applies_to_resource(*names)
                and (statement._condition is None or statement._condition.holds(facts))
            ):
                if statement.Effect == "Deny":
                    return Decision.EXPLICIT_DENY
                allowed = True
    return Decision.ALLOW if allowed else Decision.DEFAULT_DENY


def evaluate_capped(
    documents: Sequence[PolicyDocument],
    boundary: Sequence[PolicyDocument] | None,
    action: str,
    names: Sequence[str],
    facts: Facts = NO_FACTS,
) -> Decision:
    """Decide under identity ``documents`` capped by a permission ``boundary`` (None: no
    cap): allowed only when both allow; an explicit Deny in either wins."""
    decision = evaluate_names(documents, action, names, facts)
    if boundary is None or decision is Decision.EXPLICIT_DENY:
        return decision
    capped = evaluate_names(boundary, action, names, facts)
    if capped is Decision.EXPLICIT_DENY:
        return capped
    return decision if capped is Decision.ALLOW else Decision.DEFAULT_DENY


def has_conditions(documents: Iterable[PolicyDocument]) -> bool:
    """Whether any statement has a Condition (else the request's facts are never needed)."""
    return any(s._condition is not None for d in documents for s in d.Statement)


def allows_action_anywhere(documents: Iterable[PolicyDocument], action: str) -> bool:
    """Whether some statement allows ``action`` on some resource (before arguments are known)."""
    return any(
        statement.Effect == "Allow"
        and statement.applies_to_action(action)
        and statement.applies_to_some_resource()
        for document in documents
        for statement in document.Statement
    )


# Checks of a document against the action table, with the nearest valid name as a hint.

_ACTION_SHAPE = re.compile(r"^[A-Za-z*?-]+:[A-Za-z*?]+\Z")
_NAME_SEGMENT = re.compile(r"^[A-Za-z0-9._*?-]+\Z")
_SERVICES = sorted({action.partition(":")[0] for action in ACTIONS})


def _has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def _nearest(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    by_lower = {c.lower(): c for c in candidates}
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=cutoff)
    return by_lower[found[0]] if found else None


def _nearest_action(action: str) -> str | None:
    """The known action closest to ``action``: its service first, then the name in it."""
    service, _, name = action.partition(":")
    service = _nearest(service, _SERVICES) or ""
    names = [a.partition(":")[2] for a in ACTIONS if a.startswith(service + ":")]
    # 'InvokeEndpoint' is nearer to 'Invoke' than to 'ListEndpoints' for a reader.
    overlapping = [n for n in names if n.lower() in name.lower() or name.lower() in n.lower()]
    found = _nearest(name, overlapping, cutoff=0) or _nearest(name, names)
    return f"{service}:{found}" if service and found else _nearest(action, ACTIONS)


def _hint(suggestion: str | None) -> str:
    return f"; did you mean {suggestion!r}?" if suggestion else ""


def _action_problem(pattern: str) -> str | None:
    if pattern == "*":
        return None
    if not _ACTION_SHAPE.match(pattern):
        service = _nearest(pattern, _SERVICES)
        return (
            f"{pattern!r} is not an action: write '<service>:<Action>' "
            f"(e.g. 'datasets:ReadData'), a wildcard such as 'datasets:*', or '*'"
            + _hint(f"{service}:*" if service else None)
        )
    if any(glob_match(pattern, action, ignore_case=True) for action in ACTIONS):
        return None
    if not _has_wildcard(pattern):
        return f"unknown action {pattern!r}" + _hint(_nearest_action(pattern))
    service, _, name = pattern.partition(":")
    suggestion = None
    if not _has_wildcard(service):
        nearest_service = _nearest(service, _SERVICES)
        candidate = f"{nearest_service}:{name}"
        if nearest_service and any(glob_match(candidate, a, ignore_case=True) for a in ACTIONS):
            suggestion = candidate
    return f"action pattern {pattern!r} matches no known action" + _hint(suggestion)


def _resource_problem(pattern: str) -> str | None:
    if _matches_everything(pattern):
        return None
    shape = "write 'sy:<kind>/<name>[/<version>]', a wildcard such as 'sy:dataset/churn*', or '*'"
    if not pattern.startswith("sy:"):
        kind = pattern.partition("/")[0]
        suggestion = f"sy:{pattern}" if kind in RESOURCE_KINDS else None
        return f"{pattern!r} is not a Shipyard resource name: {shape}" + _hint(suggestion)
    kind, slash, name = pattern[3:].partition("/")
    if not slash:
        if _has_wildcard(kind) and any(
            glob_match(pattern, f"sy:{known}/x") for known in RESOURCE_KINDS
        ):
            return None
        nearest = kind if kind in RESOURCE_KINDS else _nearest(kind, RESOURCE_KINDS)
        return f"{pattern!r} has no '/<name>': {shape}" + _hint(
            f"sy:{nearest}/*" if nearest else None
        )
    if _has_wildcard(kind):
        if not any(glob_match(kind, known) for known in RESOURCE_KINDS):
            return f"resource kind pattern {kind!r} in {pattern!r} matches no resource kind"
    elif kind not in RESOURCE_KINDS:
        nearest = _nearest(kind, RESOURCE_KINDS)
        return f"unknown resource kind {kind!r} in {pattern!r}" + _hint(
            f"sy:{nearest}/{name}" if nearest else None
        )
    if not all(_NAME_SEGMENT.match(segment) for segment in name.split("/")):
        return (
            f"{pattern!r}: each part after the kind is a name or version (letters, digits, "
            "'.', '_', '-', and the wildcards '*' and '?'), with no empty part; aliases such "
            "as '@champion' are resolved to a version before authorization"
        )
    return None


ADMINISTRATOR_ACCESS = PolicyDocument.parse(
    {"Statement": [{"Sid": "AllowEverything", "Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
READ_ONLY_ACCESS = PolicyDocument.parse(
    {
        "Statement": [
            {
                "Sid": "ReadEverything",
                "Effect": "Allow",
                "Action": ["*:Get*", "*:List*", "*:Describe*"],
                "Resource": "*",
            }
        ]
    }
)
BUILTIN_POLICIES = {"AdministratorAccess": ADMINISTRATOR_ACCESS, "ReadOnlyAccess": READ_ONLY_ACCESS}
