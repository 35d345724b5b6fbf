"""Resource names: ``sy:<kind>/<name>[/<version>]`` and ``name[@version|@alias]`` references."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shipyard.errors import InvalidInput

MAX_NAME_LENGTH = 100
MAX_ALIAS_LENGTH = 50
MAX_VERSION = 2**31 - 1  # versions are 32-bit integer columns
# Matched whole (fullmatch): ``$`` alone would also accept a trailing newline.
NAME_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_NAME_LENGTH - 1}}}")
ALIAS_PATTERN = re.compile(rf"[A-Za-z][A-Za-z0-9_-]{{0,{MAX_ALIAS_LENGTH - 1}}}")


def check_name(value: str, *, field: str = "name") -> str:
    """Return ``value`` if it is a valid resource name, else raise naming the field."""
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value):
        raise InvalidInput(
            f"{_shown(value)} is not a valid name (letters, digits, '.', '_', '-'; "
            f"starts with a letter or digit; at most {MAX_NAME_LENGTH} characters)",
            field=field,
        )
    return value


def check_alias(value: str, *, field: str = "alias") -> str:
    """Return ``value`` if it is a valid alias (starts with a letter, so never a version)."""
    if not isinstance(value, str) or not ALIAS_PATTERN.fullmatch(value):
        raise InvalidInput(
            f"{_shown(value)} is not a valid alias (a letter, then letters, digits, '_' or '-'; "
            f"at most {MAX_ALIAS_LENGTH} characters)",
            field=field,
        )
    return value


def check_reason(reason: str, doing: str = "delete") -> str:
    """The reason a delete (a purge...) records, stripped; InvalidInput naming ``reason``
    if missing or over 500 characters (the tombstones' column)."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(f"give the reason for the {doing}", field="reason")
    if len(reason) > 500:
        raise InvalidInput("at most 500 characters", field="reason")
    return reason.strip()


def _shown(value: object) -> str:
    """A refused value for an error message, cut short so a huge one cannot flood it."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def resource(kind: str, name: str = "*", version: int | str | None = None) -> str:
    """The policy resource name of one object, e.g. ``sy:model/churn/3``."""
    return f"sy:{kind}/{name}" if version is None else f"sy:{kind}/{name}/{version}"


@dataclass(frozen=True)
class Reference:
    """A ``name``, ``name@3`` or ``name@champion`` reference to a versioned object."""

    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}@{self.version}"
        return f"{self.name}@{self.alias}" if self.alias else self.name


def parse_reference(text: str, *, field: str = "ref") -> Reference:
    """Parse ``name[@version|@alias]``; versions are positive integers."""
    name, sep, qualifier = text.partition("@")
    check_name(name, field=field)
    if not sep:
        return Reference(name)
    if qualifier.isascii() and qualifier.isdigit():
        version = int(qualifier)
        if not 1 <= version <= MAX_VERSION:
            raise InvalidInput(
                f"version in {_shown(text)} must be between 1 and {MAX_VERSION}", field=field
            )
        return Reference(name, version=version)
    return Reference(name, alias=check_alias(qualifier, field=field))
