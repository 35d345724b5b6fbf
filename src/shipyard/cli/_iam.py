"""``shipyard principals|keys|policies|groups|roles|tags``: who may do what."""

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
    from shipyard.schemas.security import GroupInfo, PrincipalInfo, TagSet

principals_app = typer.Typer(help="Users and service principals.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
policies_app = typer.Typer(help="IAM-style access policies.", no_args_is_help=True)
roles_app = typer.Typer(help="Roles assumed for a session.", no_args_is_help=True)
groups_app = typer.Typer(help="Groups of principals that share policies.", no_args_is_help=True)
tags_app = typer.Typer(
    help="Tags on principals and resources, for policy conditions.", no_args_is_help=True
)


def _principals(items: list[PrincipalInfo]) -> None:
    table(
        "Principals",
        ["name", "kind", "policies", "boundary", "tags", "disabled", "created"],
        [
            (
                p.name,
                p.kind,
                ", ".join(p.policies),
                p.boundary or "",
                ", ".join(f"{k}={v}" for k, v in p.tags.items()),
                p.disabled,
                p.created_at,
            )
            for p in items
        ],
    )


@principals_app.command("create")
def create_principal(
    name: str,
    kind: Annotated[str, typer.Option(help="user or service")] = "user",
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="KEY=VALUE; repeat for more tags")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    p = STATE.client().iam.create_principal(name, kind, _pairs(tag or [], "tags") or None)
    emit(p, as_json, lambda: _principals([p]))


@principals_app.command("list")
def list_principals(
    limit: LimitOption = None, page_token: PageTokenOption = None, as_json: JsonOption = False
) -> None:
    """Principals by name with their policies."""
    items = STATE.client().iam.list_principals(limit=limit, page_token=page_token)
    emit(items, as_json, lambda: _principals(items))
    show_next_page(items, as_json)


@principals_app.command("limits")
def limits(
    name: str,
    rate: Annotated[
        float | None, typer.Option(help="Requests a second (per server; serving shares it).")
    ] = None,
    burst: Annotated[int | None, typer.Option(help="Requests at once above the rate.")] = None,
    daily_quota: Annotated[int | None, typer.Option(help="Requests a UTC day.")] = None,
    clear: Annotated[bool, typer.Option(help="Back to the settings' defaults.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Show a principal's request limits and today's count; with options, set its own
    (the ones not given become unlimited)."""
    client = STATE.client()
    if clear or (rate, burst, daily_quota) != (None, None, None):
        found = client.iam.put_principal_limits(
            name, requests_per_second=rate, burst=burst, daily_quota=daily_quota, clear=clear
        )
    else:
        found = client.iam.get_principal_limits(name)

    def show() -> None:
        source = "its own" if found.own else "the defaults"
        console.print(
            f"{found.principal} ({source}): rate {_or_unlimited(found.requests_per_second, '/s')}, "
            f"burst {_or_unlimited(found.burst)}, daily quota {_or_unlimited(found.daily_quota)};"
            f" {found.requests_today} requests today",
            highlight=False,
        )

    emit(found, as_json, show)


def _or_unlimited(value: float | None, unit: str = "") -> str:
    return "unlimited" if value is None else f"{value:g}{unit}"


@principals_app.command("disable")
def disable_principal(principal: str, as_json: JsonOption = False) -> None:
    """Stop PRINCIPAL's keys and console sessions at once."""
    p = STATE.client().iam.disable_principal(principal)
    emit(p, as_json, lambda: _principals([p]))


@principals_app.command("enable")
def enable_principal(principal: str, as_json: JsonOption = False) -> None:
    """Let a disabled PRINCIPAL work again."""
    p = STATE.client().iam.enable_principal(principal)
    emit(p, as_json, lambda: _principals([p]))


@principals_app.command("boundary")
def set_boundary(
    principal: str,
    policy: Annotated[
        str | None, typer.Argument(help="The boundary policy; leave out with --remove")
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Remove the boundary")] = False,
    as_json: JsonOption = False,
) -> None:
    """Cap what PRINCIPAL's policies allow by POLICY (its permission boundary)."""
    if (policy is None) != remove:
        raise InvalidInput("give a POLICY, or --remove", field="policy")
    iam = STATE.client().iam
    p = (
        iam.delete_principal_boundary(principal)
        if remove
        else iam.put_principal_boundary(principal, policy or "")
    )
    emit(p, as_json, lambda: _principals([p]))


@principals_app.command("delete")
def delete_principal(principal: str, as_json: JsonOption = False) -> None:
    """Delete PRINCIPAL with its keys, tags and policy attachments."""
    p = STATE.client().iam.delete_principal(principal)
    emit(p, as_json, lambda: console.print(f"principal {p.name} deleted"))


@keys_app.command("create")
def create_key(
    principal: str,
    expires_in: Annotated[
        str | None, typer.Option("--expires-in", help="Lifetime: 90m, 12h, 30d, 2w")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Issue an API key; it is shown now and never again."""
    key = STATE.client().iam.create_api_key(principal, expires_in)
    until = f", expires {key.expires_at:%Y-%m-%d %H:%M} UTC" if key.expires_at else ""
    emit(
        key,
        as_json,
        lambda: console.print(
            f"API key for {principal}{until} (shown once, store it now):\n{key.token}",
            highlight=False,
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
            ["key id", "created", "by", "last used", "expires", "state"],
            [
                (
                    k.key_id,
                    _minute(k.created_at),
                    k.created_by,
                    _minute(k.last_used_at) if k.last_used_at else "never",
                    _minute(k.expires_at) if k.expires_at else "never",
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
    from shipyard.client._group import read_file

    try:
        document = json.loads(read_file(file))
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{file.name} is not valid JSON: {error}", field="document") from None
    p = STATE.client().iam.put_policy(name, document)
    emit(p, as_json, lambda: console.print(f"policy {p.name} saved as version {p.default_version}"))


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


@policies_app.command("versions")
def policy_versions(name: str, as_json: JsonOption = False) -> None:
    """Every version of policy NAME; * marks the default."""
    items = STATE.client().iam.list_policy_versions(name)
    emit(
        items,
        as_json,
        lambda: table(
            f"Versions of {name}",
            ["version", "default", "created", "by", "statements"],
            [
                (v.version, "*" if v.default else "", v.created_at, v.created_by,
                 json.dumps(v.document.get("Statement")))
                for v in items
            ],
        ),
    )  # fmt: skip


@policies_app.command("set-default")
def set_default_version(name: str, version: int, as_json: JsonOption = False) -> None:
    """Make VERSION of policy NAME the one checks read (roll back or forward)."""
    p = STATE.client().iam.set_default_policy_version(name, version)
    emit(p, as_json, lambda: console.print(f"policy {p.name}: version {p.default_version}"))


@policies_app.command("delete")
def delete_policy(name: str, as_json: JsonOption = False) -> None:
    """Delete policy NAME (refused while a principal uses it)."""
    p = STATE.client().iam.delete_policy(name)
    emit(p, as_json, lambda: console.print(f"policy {p.name} deleted"))


@policies_app.command("attach")
def attach(principal: str, policy: str, as_json: JsonOption = False) -> None:
    p = STATE.client().iam.attach_policy(principal, policy)
    emit(p, as_json, lambda: _principals([p]))


@policies_app.command("detach")
def detach(principal: str, policy: str, as_json: JsonOption = False) -> None:
    p = STATE.client().iam.detach_policy(principal, policy)
    emit(p, as_json, lambda: _principals([p]))


def _pairs(pairs: list[str], field: str) -> dict[str, str]:
    given: dict[str, str] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise InvalidInput(f"{pair!r} is not KEY=VALUE", field=field)
        given[key] = value
    return given


@roles_app.command("create")
def create_role(
    role: str,
    trust: Annotated[Path, typer.Argument(help="Trust policy (JSON): who may assume it.")],
    as_json: JsonOption = False,
) -> None:
    """Create ROLE; attach policies to it as to any principal."""
    from shipyard.client._group import read_file

    try:
        document = json.loads(read_file(trust))
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"{trust.name} is not valid JSON: {error}", field="trust_policy"
        ) from None
    p = STATE.client().iam.create_role(role, document)
    emit(p, as_json, lambda: _principals([p]))


@roles_app.command("assume")
def assume(
    role: str,
    duration: Annotated[str, typer.Option(help="Session length: 15m to 12h")] = "1h",
    as_json: JsonOption = False,
) -> None:
    """A session key for ROLE, expiring after DURATION; shown now and never again."""
    key = STATE.client().iam.assume_role(role, duration)
    until = f"{key.expires_at:%Y-%m-%d %H:%M} UTC" if key.expires_at else ""
    emit(
        key,
        as_json,
        lambda: console.print(
            f"session key for {role}, expires {until}:\n{key.token}", highlight=False
        ),
    )


def _groups(items: list[GroupInfo]) -> None:
    table(
        "Groups",
        ["name", "members", "policies", "created"],
        [(g.name, ", ".join(g.members), ", ".join(g.policies), g.created_at) for g in items],
    )


@groups_app.command("create")
def create_group(group: str, as_json: JsonOption = False) -> None:
    g = STATE.client().iam.create_group(group)
    emit(g, as_json, lambda: _groups([g]))


@groups_app.command("list")
def list_groups(
    limit: LimitOption = None, page_token: PageTokenOption = None, as_json: JsonOption = False
) -> None:
    """Groups by name with their members and policies."""
    items = STATE.client().iam.list_groups(limit=limit, page_token=page_token)
    emit(items, as_json, lambda: _groups(items))
    show_next_page(items, as_json)


@groups_app.command("delete")
def delete_group(group: str, as_json: JsonOption = False) -> None:
    """Delete GROUP: its members lose its policies at once."""
    g = STATE.client().iam.delete_group(group)
    emit(g, as_json, lambda: console.print(f"group {g.name} deleted"))


@groups_app.command("add")
def add_member(group: str, principal: str, as_json: JsonOption = False) -> None:
    """Put PRINCIPAL in GROUP (it holds the group's policies)."""
    g = STATE.client().iam.add_group_member(group, principal)
    emit(g, as_json, lambda: _groups([g]))


@groups_app.command("remove")
def remove_member(group: str, principal: str, as_json: JsonOption = False) -> None:
    g = STATE.client().iam.remove_group_member(group, principal)
    emit(g, as_json, lambda: _groups([g]))


@groups_app.command("attach")
def attach_group(group: str, policy: str, as_json: JsonOption = False) -> None:
    g = STATE.client().iam.attach_group_policy(group, policy)
    emit(g, as_json, lambda: _groups([g]))


@groups_app.command("detach")
def detach_group(group: str, policy: str, as_json: JsonOption = False) -> None:
    g = STATE.client().iam.detach_group_policy(group, policy)
    emit(g, as_json, lambda: _groups([g]))


def _tag_table(result: TagSet) -> None:
    table(f"Tags of {result.resource}", ["key", "value"], sorted(result.tags.items()))


@tags_app.command("set")
def set_tags(
    resource: Annotated[str, typer.Argument(help="sy:model/churn, sy:principal/ann...")],
    tags: Annotated[list[str], typer.Argument(help="KEY=VALUE pairs")],
    as_json: JsonOption = False,
) -> None:
    """Set tags on RESOURCE (a key already there is replaced)."""
    result = STATE.client().iam.tag(resource, _pairs(tags, "tags"))
    emit(result, as_json, lambda: _tag_table(result))


@tags_app.command("remove")
def remove_tags(
    resource: str,
    keys: Annotated[list[str], typer.Argument(help="Tag keys to remove")],
    as_json: JsonOption = False,
) -> None:
    """Remove tags from RESOURCE by key."""
    result = STATE.client().iam.untag(resource, keys)
    emit(result, as_json, lambda: _tag_table(result))


@tags_app.command("list")
def list_tags(resource: str, as_json: JsonOption = False) -> None:
    """The tags on RESOURCE."""
    result = STATE.client().iam.tags(resource)
    emit(result, as_json, lambda: _tag_table(result))


def parse_context(pairs: list[str]) -> dict[str, str | list[str]]:
    """``KEY=VALUE`` pairs as condition keys; a key given again gathers a list of values."""
    found: dict[str, str | list[str]] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise InvalidInput(f"{pair!r} is not KEY=VALUE", field="context")
        key = key.strip()
        before = found.get(key)
        if before is None:
            found[key] = value
        else:
            found[key] = [*([before] if isinstance(before, str) else before), value]
    return found


@policies_app.command("simulate")
def simulate(
    principal: str,
    action: str,
    resource: str,
    context: Annotated[
        list[str] | None,
        typer.Option(
            "--context",
            "-c",
            help="A condition key, KEY=VALUE (e.g. sy:SourceIp=10.0.0.7); repeat a key for a list.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """May PRINCIPAL do ACTION on RESOURCE? The decision, the statement that made it, and
    the condition that kept each other statement from applying."""
    result = STATE.client().iam.simulate(principal, action, resource, parse_context(context or []))

    def show() -> None:
        verb = "may" if result.decision == "allow" else "may not"
        console.print(f"{result.decision}: {principal} {verb} {action} on {resource}")
        deciding = result.deciding
        if deciding is None:
            console.print("no statement applies: denied by default")
        else:
            sid = f" ({deciding.sid})" if deciding.sid else ""
            console.print(
                f"decided by policy {deciding.policy} statement {deciding.index}{sid}: "
                f"{deciding.effect}"
            )
        for unmet in result.unmet:
            sid = f" ({unmet.sid})" if unmet.sid else ""
            console.print(
                f"not applied: policy {unmet.policy} statement {unmet.index}{sid} "
                f"({unmet.effect}): {unmet.condition} does not hold",
                highlight=False,
                soft_wrap=True,
            )

    emit(result, as_json, show)
