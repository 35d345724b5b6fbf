"""The action table lists every action Shipyard checks, and the built-in policies pass it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import shipyard
from shipyard.operations import OPERATIONS
from shipyard.security._actions import ACTIONS, RESOURCE_KINDS
from shipyard.security._policy import BUILTIN_POLICIES, PolicyDocument
from shipyard.serving import _auth as serving_auth

SOURCE = Path(shipyard.__file__).parent
ACTION_LITERAL = re.compile(r"""["']([a-z][a-z-]*:[A-Z][A-Za-z]+)["']""")
KIND_LITERAL = re.compile(
    r"""(?:resource|versioned)\(\s*["']([a-z][a-z-]*)["']|["']sy:([a-z][a-z-]*)/"""
)
AUDIT_ONLY = {"audit:DropEvents", "deploy:StepDeployment"}
"""Actions the audit trail records about Shipyard itself; nobody is authorized for them."""


def _source_files() -> list[Path]:
    return sorted(SOURCE.rglob("*.py"))


def test_every_catalog_operation_action_is_in_the_table() -> None:
    missing = sorted({op.info.action for op in OPERATIONS} - ACTIONS)
    assert missing == []


def test_every_data_plane_action_is_in_the_table() -> None:
    actions = {
        value
        for name, value in vars(serving_auth).items()
        if name.isupper() and isinstance(value, str) and ":" in value
    }
    assert actions, "serving/_auth.py no longer names its actions as constants"
    assert sorted(actions - ACTIONS) == []


def test_every_action_named_in_the_source_is_in_the_table() -> None:
    """In-body ``ctx.authorize("...")`` checks too, not only the decorators."""
    missing = {
        f"{path.relative_to(SOURCE)}: {action}"
        for path in _source_files()
        for action in ACTION_LITERAL.findall(path.read_text())
        if action not in ACTIONS | AUDIT_ONLY and not action.startswith("sy:")  # condition keys
    }
    assert sorted(missing) == []


def test_every_resource_kind_named_in_the_source_is_in_the_table() -> None:
    missing = {
        f"{path.relative_to(SOURCE)}: {kind}"
        for path in _source_files()
        for found in KIND_LITERAL.findall(path.read_text())
        for kind in found
        if kind and kind not in RESOURCE_KINDS
    }
    assert sorted(missing) == []


def test_table_entries_are_well_formed() -> None:
    assert all(re.fullmatch(r"[a-z][a-z-]*:[A-Z][A-Za-z]+", action) for action in ACTIONS)
    assert all(re.fullmatch(r"[a-z][a-z-]*", kind) for kind in RESOURCE_KINDS)
    assert len({action.lower() for action in ACTIONS}) == len(ACTIONS)  # matching ignores case


@pytest.mark.parametrize("name", sorted(BUILTIN_POLICIES))
def test_builtin_policies_validate(name: str) -> None:
    document = BUILTIN_POLICIES[name].model_dump(exclude_none=True)
    assert PolicyDocument.parse(document) == BUILTIN_POLICIES[name]
