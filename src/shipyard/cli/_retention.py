"""``shipyard retention``: how long captures, dataset versions and deleted runs are kept."""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, table

app = typer.Typer(
    help="Retention rules for captures, dataset versions and deleted runs.", no_args_is_help=True
)

KindArgument = Annotated[str, typer.Argument(help="captures, dataset_versions or deleted_runs")]


@app.command("set")
def set_rule(
    kind: KindArgument,
    target: Annotated[
        str, typer.Argument(help="The endpoint (captures), dataset, or experiment (deleted runs).")
    ],
    days: Annotated[
        int | None, typer.Option(help="Captures, deleted runs: keep this many days.")
    ] = None,
    keep_last: Annotated[
        int | None, typer.Option(help="Dataset versions: keep this many newest.")
    ] = None,
    every: Annotated[int, typer.Option(help="Scheduler: apply every N seconds.")] = 3600,
    as_json: JsonOption = False,
) -> None:
    """Set the retention rule of one endpoint's captures, one dataset's versions, or one
    experiment's deleted runs (purged once deleted longer than --days)."""
    rule = STATE.client().retention.put_rule(
        kind, target, days=days, keep_last=keep_last, every_seconds=every
    )
    emit(rule, as_json, lambda: console.print(f"retention of {kind} of {target} set"))


@app.command("list")
def list_rules(as_json: JsonOption = False) -> None:
    """Every retention rule."""
    rules = STATE.client().retention.list_rules()
    emit(
        rules,
        as_json,
        lambda: table(
            "Retention rules",
            ["kind", "target", "days", "keep last", "every (s)", "set by"],
            [(r.kind, r.target, r.days, r.keep_last, r.every_seconds, r.created_by) for r in rules],
        ),
    )


@app.command("delete")
def delete_rule(kind: KindArgument, target: str, as_json: JsonOption = False) -> None:
    """Remove a retention rule (nothing already deleted comes back)."""
    rule = STATE.client().retention.delete_rule(kind, target)
    emit(rule, as_json, lambda: console.print(f"retention of {kind} of {target} removed"))


@app.command("apply")
def apply(
    dry_run: Annotated[bool, typer.Option(help="Only list what would be deleted.")] = False,
    kind: Annotated[str | None, typer.Option(help="Only rules of this kind.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Apply the retention rules now (the scheduler also does, every rule's period)."""
    report = STATE.client().retention.apply(dry_run=dry_run, kind=kind)
    verb = "would delete" if dry_run else "deleted"
    emit(
        report,
        as_json,
        lambda: table(
            f"Retention ({'dry run' if dry_run else 'applied'})",
            ["kind", "target", verb, "blobs purged", "skipped"],
            [
                (
                    o.kind,
                    o.target,
                    ", ".join(o.deleted) or "-",
                    o.purged_blobs,
                    "; ".join(o.skipped) or "-",
                )
                for o in report.outcomes
            ],
        ),
    )
