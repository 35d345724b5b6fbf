"""``shipyard principals|keys|policies|audit``: who may do what, and what they did."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, table
from shipyard.cli._paging import LimitOption, PageTokenOption, show_next_page
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.schemas.security import PrincipalInfo

principals_app = typer.Typer(help="Users and service principals.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
policies_app = typer.Typer(help="IAM-style access policies.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)


def _principals(items: list[PrincipalInfo]) -> None:
    table(
        "Principals",
        ["name", "kind", "policies", "disabled", "created"],
        [(p.name, p.kind, ", ".join(p.policies), p.disabled, p.created_at) for p in items],
    )


@principals_app.command("create")
def create_principal(
    name: str,
    kind: Annotated[str, typer.Option(help="user or service")] = "user",
    as_json: JsonOption = False,
) -> None:
    p = STATE.client().iam.create_principal(name, kind)
    emit(p, as_json, lambda: _principals([p]))


@principals_app.command("list")
def list_principals(
    limit: LimitOption = None, page_token: PageTokenOption = None, as_json: JsonOption = False
) -> None:
    """Principals by name with their policies."""
    items = STATE.client().iam.list_principals(limit=limit, page_token=page_token)
    emit(items, as_json, lambda: _principals(items))
    show_next_page(items, as_json)


@keys_app.command("create")
def create_key(principal: str, as_json: JsonOption = False) -> None:
    """Issue an API key; it is shown now and never again."""
    key = STATE.client().iam.create_api_key(principal)
    emit(
        key,
        as_json,
        lambda: console.print(
            f"API key for {principal} (shown once, store it now):\n{key.token}", highlight=False
        ),
    )


@keys_app.command("list")
def list_keys(
    principal: str,
    limit: LimitOption = None,
    page_token: PageTokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """A principal's API keys (revoked ones too), who issued each and when it was last
    used (to the minute); secrets are never shown."""
    items = STATE.client().iam.list_api_keys(principal, limit=limit, page_token=page_token)
    emit(
        items,
        as_json,
        lambda: table(
            f"API keys of {principal}",
            ["key id", "created", "by", "last used", "state"],
            [
                (
                    k.key_id,
                    _minute(k.created_at),
                    k.created_by,
                    _minute(k.last_used_at) if k.last_used_at else "never",
                    "revoked" if k.revoked else "active",
                )
                for k in items
            ],
        ),
    )
    show_next_page(items, as_json)


def _minute(time: datetime) -> str:
    """To the minute: the key table fits 80 columns (--json has every field in full)."""
    return f"{time:%Y-%m-%d %H:%M}"


@keys_app.command("revoke")
def revoke_key(key_id: str, as_json: JsonOption = False) -> None:
    key = STATE.client().iam.revoke_api_key(key_id)
    emit(key, as_json, lambda: console.print(f"revoked key {key.key_id} of {key.principal}"))


@policies_app.command("put")
def put_policy(
    name: str,
    file: Annotated[Path, typer.Argument(help="Policy document (JSON).")],
    as_json: JsonOption = False,
) -> None:
    """Create or replace policy NAME from a JSON document."""
    from shipyard.client._resources import read_file

    try:
        document = json.loads(read_file(file))
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{file.name} is not valid JSON: {error}", field="document") from None
    p = STATE.client().iam.put_policy(name, document)
    emit(p, as_json, lambda: console.print(f"policy {p.name} saved"))


@policies_app.command("list")
def list_policies(
    limit: LimitOption = None, page_token: PageTokenOption = None, as_json: JsonOption = False
) -> None:
    """Policies by name with their statements."""
    items = STATE.client().iam.list_policies(limit=limit, page_token=page_token)
    emit(
        items,
        as_json,
        lambda: table(
            "Policies",
            ["name", "statements"],
            [(p.name, json.dumps(p.document["Statement"])) for p in items],
        ),
    )
    show_next_page(items, as_json)


@policies_app.command("attach")
def attach(principal: str, policy: str, as_json: JsonOption = False) -> None:
    p = STATE.client().iam.attach_policy(principal, policy)
    emit(p, as_json, lambda: _principals([p]))


@policies_app.command("detach")
def detach(principal: str, policy: str, as_json: JsonOption = False) -> None:
    p = STATE.client().iam.detach_policy(principal, policy)
    emit(p, as_json, lambda: _principals([p]))


@audit_app.command("list")
def list_audit(
    principal: Annotated[str | None, typer.Option()] = None,
    action: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 50,
    as_json: JsonOption = False,
) -> None:
    """Audit events, newest first."""
    items = STATE.client().iam.audit_events(principal=principal, action=action, limit=limit)
    emit(
        items,
        as_json,
        lambda: table(
            "Audit log",
            ["time", "principal", "action", "resource", "outcome"],
            [(e.time, e.principal, e.action, e.resource, e.outcome) for e in items],
        ),
    )
