"""Contracts as YAML documents: parse with errors that name the key, dump in shorthand form."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from typing import Any

import orjson
import yaml
from pydantic import BaseModel, ValidationError

from shipyard.errors import InvalidInput
from shipyard.schemas.contract_spec import (
    CHECKS,
    SHORTHANDS,
    ColumnContract,
    Contract,
    DriftPolicy,
    Reference,
    RowCount,
)


def parse_contract(data: Mapping[str, Any] | str) -> Contract:
    """A contract from a mapping or YAML text; InvalidInput names the first bad key."""
    if isinstance(data, str):
        data = _load_yaml(data)
    if not isinstance(data, Mapping):
        raise InvalidInput("a contract must be a mapping of keys to values", field="contract")
    try:
        return Contract.model_validate(dict(data))
    except ValidationError as error:
        raise _first_problem(error) from None


def contract_document(contract: Contract) -> dict[str, Any]:
    """The contract as plain data, checks in shorthand where they have no severity of their own."""
    document = contract.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    document["name"] = contract.name
    document["drift"] = contract.drift.model_dump(mode="json", exclude_none=True)
    document.pop("reference", None)
    if contract.reference is not None:
        document["reference"] = contract.reference.model_dump(mode="json", exclude_none=True)
    for column in document.get("columns", {}).values():
        for check in column.values():
            if isinstance(check, dict) and "severity" in check:
                check["severity"] = check.pop("severity")
        for key, field in SHORTHANDS.items():
            check = column.get(key)
            if isinstance(check, dict) and "severity" not in check:
                column[key] = True if field is None else check[field]
    if isinstance(rows := document.get("rows"), dict) and "severity" in rows:
        rows["severity"] = rows.pop("severity")
    return document


def contract_yaml(contract: Contract) -> str:
    """Readable YAML: one line per check, lists of plain values on one line."""
    return yaml.dump(
        contract_document(contract),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )


def contract_digest(contract: Contract) -> str:
    """A digest of the contract's content, to tell an unchanged re-apply from an edit."""
    canonical = orjson.dumps(contract.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


class _Dumper(yaml.SafeDumper):
    pass


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    flat = all(isinstance(v, str | int | float | bool) for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flat)


_Dumper.add_representer(list, _represent_list)


def _load_yaml(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise InvalidInput(f"invalid YAML{line}: {problem}", field="contract") from None


_SECTIONS: dict[str, type[BaseModel]] = {
    "rows": RowCount,
    "drift": DriftPolicy,
    "reference": Reference,
}


def _first_problem(error: ValidationError) -> InvalidInput:
    problems = error.errors(include_url=False)
    first = problems[0]
    location = [str(part) for part in first["loc"] if part not in ("[key]",)]
    field = ".".join(location) or "contract"
    if first["type"] == "extra_forbidden":
        message = f"unknown key {location[-1]!r}{_hint(location)}"
    elif first["type"] == "missing":
        message = "is required"
    else:
        message = first["msg"].removeprefix("Value error, ")
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    return InvalidInput(message + more, field=field)


def _hint(location: list[str]) -> str:
    parent: type[BaseModel] | None = None
    if len(location) == 1:
        parent = Contract
    elif len(location) == 2:
        parent = _SECTIONS.get(location[0])
    elif location[0] == "columns" and len(location) == 3:
        parent = ColumnContract
    elif location[0] == "columns" and len(location) == 4:
        parent = CHECKS.get(location[2])
    if parent is None:
        return ""
    known = list(parent.model_fields)
    close = difflib.get_close_matches(location[-1], known, n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; known keys are {known}"
