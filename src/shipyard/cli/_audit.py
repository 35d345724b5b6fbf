"""``shipyard audit``: what was done, and whether the record of it is intact."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, errors, table
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.schemas.security import AuditVerification

audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)


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
            "--export",
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
        raise InvalidInput("--public-key needs --from (or --export)", field="public_key")
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


@audit_app.command("public-key")
def audit_public_key(
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the PEM to this file instead.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the audit checkpoints' signing public key (PEM), for an auditor to keep apart
    from exports and pass to `audit verify --export DIR --public-key FILE`."""
    key = STATE.client().iam.audit_public_key()
    if out is not None:
        if out.is_dir():
            raise InvalidInput(f"{out} is a directory", field="out")
        out.write_text(key.public_key)
    if as_json:
        emit(key, as_json, lambda: None)
    elif out is None:
        typer.echo(key.public_key, nl=False)
    else:
        console.print(f"wrote {out} (key {key.key_id})", highlight=False, soft_wrap=True)


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
