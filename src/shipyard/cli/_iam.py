"""``shipyard principals|keys|policies|audit``: who may do what, and what they did."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, errors, table
from shipyard.cli._paging import LimitOption, PageTokenOption, show_next_page
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.schemas.security import AuditVerification, PrincipalInfo

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


@audit_app.command("verify")
def verify_audit(
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Check an export directory offline (no server, no database) instead.",
        ),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(help="With --from: the PEM public key you hold, instead of the export's own."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute the audit log's hash chain and check its signed checkpoints.

    Exits 1 when the log is broken, naming the first edited, deleted, inserted or
    reordered event.
    """
    if public_key is not None and source is None:
        raise InvalidInput("--public-key needs --from", field="public_key")
    if source is not None:
        from shipyard.audit import verify_export

        if not source.is_dir():
            raise InvalidInput(f"{source} is not a directory", field="from")
        verdict = verify_export(source, public_key)
    else:
        verdict = STATE.client().iam.verify_audit_log()
    emit(verdict, as_json, lambda: _show_verdict(verdict))
    if source is not None and public_key is None and not as_json:
        console.print(
            "checked against the export's own public key: compare its fingerprint with the "
            "one you hold, or pass --public-key",
            highlight=False,
            soft_wrap=True,
        )
    if not verdict.ok:
        raise typer.Exit(1)


@audit_app.command("export")
def export_audit(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the export to.")],
    as_json: JsonOption = False,
) -> None:
    """Write the sealed audit log (events.jsonl), its signed checkpoints (checkpoints.jsonl)
    and the public key (audit-signing.pub) to a directory, for `audit verify --from`."""
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"{out} exists and is not a directory", field="out")
    verdict = STATE.client().iam.export_audit_log(out)
    emit(verdict, as_json, lambda: console.print(f"exported to {out}", highlight=False))
    if not as_json:
        _show_verdict(verdict)
    if not verdict.ok:
        raise typer.Exit(1)


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _show_verdict(verdict: AuditVerification) -> None:
    last = verdict.last_checkpoint
    signed = f"last checkpoint seq {last.seq} at {last.time}" if last else "no checkpoint yet"
    if verdict.ok:
        console.print(
            f"audit log OK: {_count(verdict.events, 'event')}, "
            f"{_count(verdict.checkpoints, 'checkpoint')}, "
            f"{signed}; {verdict.unsealed} not yet sealed",
            highlight=False,
            soft_wrap=True,
        )
    else:
        bad = verdict.first_bad
        where = f"seq {bad.seq}: {bad.problem}" if bad else "an unknown place"
        errors.print(f"audit log BROKEN at {where}", highlight=False, soft_wrap=True)
        errors.print(
            f"{_count(verdict.events, 'event')} intact before it; {signed}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"checkpoint key {verdict.key_id}", highlight=False, soft_wrap=True)
