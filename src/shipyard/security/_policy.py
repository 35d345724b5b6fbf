"""IAM-style policy documents and their evaluation: explicit Deny wins, default deny."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import Enum
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shipyard.errors import InvalidInput


class PolicyStatement(BaseModel):
    """One rule: Allow or Deny these actions on these resources."""

    model_config = ConfigDict(extra="forbid")

    Sid: str | None = None
    Effect: Literal["Allow", "Deny"]
    Action: list[str] = Field(min_length=1)
    Resource: list[str] = Field(min_length=1)

    @field_validator("Action", "Resource", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class PolicyDocument(BaseModel):
    """A policy: a version tag and a list of statements."""

    model_config = ConfigDict(extra="forbid")

    Version: str = "2026-01-01"
    Statement: list[PolicyStatement] = Field(min_length=1)

    @classmethod
    def parse(cls, document: object) -> PolicyDocument:
        """Validate a JSON document, naming the first bad field."""
        try:
            return cls.model_validate(document)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = "document." + ".".join(str(p) for p in first["loc"])
            raise InvalidInput(first["msg"], field=field) from None


class Decision(Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit_deny"
    DEFAULT_DENY = "default_deny"


@lru_cache(maxsize=4096)
def _compile(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts) + r"\Z", re.IGNORECASE if ignore_case else 0)


def _matches(patterns: list[str], value: str, ignore_case: bool) -> bool:
    return any(_compile(p, ignore_case).match(value) for p in patterns)


def evaluate(documents: Iterable[PolicyDocument], action: str, resource: str) -> Decision:
    """Decide one request: any matching Deny wins, else any matching Allow, else deny."""
    allowed = False
    for document in documents:
        for statement in document.Statement:
            if _matches(statement.Action, action, True) and _matches(
                statement.Resource, resource, False
            ):
                if statement.Effect == "Deny":
                    return Decision.EXPLICIT_DENY
                allowed = True
    return Decision.ALLOW if allowed else Decision.DEFAULT_DENY


def allows_action_anywhere(documents: Iterable[PolicyDocument], action: str) -> bool:
    """Whether some statement allows ``action`` on some resource (before arguments are known)."""
    return any(
        statement.Effect == "Allow" and _matches(statement.Action, action, True)
        for document in documents
        for statement in document.Statement
    )


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
