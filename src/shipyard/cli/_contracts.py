"""``shipyard contracts`` and ``shipyard validate``: data contracts and validation reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, errors, print_json, table, warn_type_problems
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.schemas.contract_report import ValidationReport
    from shipyard.schemas.contracts import GatedIngest

app = typer.Typer(help="Suggest, apply and inspect data contracts.", no_args_is_help=True)

_MARK = {True: "[green]pass[/]", False: "[red]FAIL[/]"}
_STATUS = {"passed": "green", "warned": "yellow", "failed": "red"}
_SHOWN_SAMPLES = 3


@app.command()
def suggest(
    dataset: Annotated[str, typer.Argument(help="NAME or NAME@VERSION of the baseline.")],
    name: Annotated[
        str | None, typer.Option(help="Contract name (default: the dataset's).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the YAML here instead of stdout.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Derive a contract (checks and drift reference) from a dataset version."""
    suggestion = STATE.client().contracts.suggest(dataset, name=name)
    if out is not None:
        out.write_text(suggestion.yaml, encoding="utf-8")
    if as_json:
        print_json(suggestion)
    elif out is not None:
        checks = sum(len(c.checks()) for c in suggestion.contract.columns.values())
        console.print(
            f"wrote contract [bold]{suggestion.contract.name}[/] ({checks} checks on "
            f"{len(suggestion.contract.columns)} columns, from {suggestion.baseline}) to {out}"
        )
    else:
        typer.echo(suggestion.yaml, nl=False)


@app.command()
def apply(
    file: Annotated[Path, typer.Argument(help="Contract YAML file.")],
    as_json: JsonOption = False,
) -> None:
    """Store FILE as the next version of its contract (an unchanged file keeps its version)."""
    info = STATE.client().contracts.apply(file)
    verb = "created" if info.created else "unchanged, existing"
    emit(info, as_json, lambda: console.print(f"contract [bold]{info.ref}[/] {verb}"))


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """All contracts with their latest version."""
    items = STATE.client().contracts.list()
    emit(
        items,
        as_json,
        lambda: table(
            "Contracts",
            ["name", "versions", "latest", "dataset", "created"],
            [(c.name, c.versions, c.latest_version, c.dataset, c.created_at) for c in items],
        ),
    )


@app.command()
def show(
    ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION")], as_json: JsonOption = False
) -> None:
    """A contract version as YAML (edit it and ``apply`` it for a new version)."""
    info = STATE.client().contracts.get(ref)
    if as_json:
        print_json(info)
        return
    typer.echo(f"# {info.ref}, applied by {info.created_by} at {info.created_at:%Y-%m-%d %H:%M}")
    typer.echo(info.yaml, nl=False)


@app.command()
def reports(
    dataset: Annotated[str, typer.Argument(help="NAME or NAME@VERSION")],
    as_json: JsonOption = False,
) -> None:
    """Stored validation reports of a dataset, newest first."""
    items = STATE.client().contracts.validations(dataset)
    emit(
        items,
        as_json,
        lambda: table(
            f"Validations of {dataset}",
            ["id", "dataset", "contract", "status", "rows", "failed", "drifted", "created"],
            [
                (
                    s.id,
                    s.dataset,
                    s.contract,
                    s.status,
                    s.rows,
                    ", ".join(s.failed_checks),
                    ", ".join(s.drifted_columns),
                    s.created_at,
                )
                for s in items
            ],
        ),
    )


@app.command()
def report(
    report_id: Annotated[int, typer.Argument(help="Report id (see `contracts reports`).")],
    html: Annotated[Path | None, typer.Option(help="Also write an HTML report here.")] = None,
    as_json: JsonOption = False,
) -> None:
    """One stored validation report."""
    found = STATE.client().contracts.report(report_id)
    _finish(found, html, as_json)


def validate(
    dataset: Annotated[str, typer.Argument(help="NAME or NAME@VERSION")],
    contract: Annotated[str, typer.Option(help="Contract NAME or NAME@VERSION.")],
    html: Annotated[Path | None, typer.Option(help="Also write an HTML report here.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Validate a dataset version against a contract; exit 1 when an error check fails."""
    found = STATE.client().contracts.validate(dataset, contract)
    _finish(found, html, as_json)
    if found.status == "failed":
        failed = [c.label for c in found.failures("error")]
        failed += [f"{d.column}.drift" for d in found.drift if d.drifted and d.severity == "error"]
        raise InvalidInput(
            f"{found.dataset} failed validation against {found.contract} "
            f"(report {found.id}): {', '.join(failed)}"
        )


def _finish(found: ValidationReport, html: Path | None, as_json: bool) -> None:
    if html is not None:
        from shipyard.contracts import render_html

        html.write_text(render_html(found), encoding="utf-8")
    emit(found, as_json, lambda: show_report(found))
    if html is not None and not as_json:
        console.print(f"HTML report written to {html}")


def show_report(found: ValidationReport) -> None:
    """The report as Rich tables: checks, drift, and samples of failing rows."""
    colour = _STATUS[found.status]
    console.print(
        f"[bold]{found.dataset or 'data'}[/] against [bold]{found.contract}[/]: "
        f"[{colour}]{found.status}[/] ({found.rows} rows"
        + (f", report {found.id}" if found.id is not None else "")
        + ")"
    )
    table(
        "Checks",
        ["result", "column", "check", "severity", "expected", "observed", "failing", "share"],
        [
            (
                _MARK[c.passed],
                c.column or "(table)",
                c.check,
                c.severity,
                _compact(c.expected),
                _compact(c.observed) + (f" {c.message}" if c.message else ""),
                c.failing_rows,
                f"{c.failing_share:.3%}" if c.failing_share is not None else None,
            )
            for c in found.checks
        ],
    )
    if found.drift:
        table(
            "Drift",
            ["result", "column", "kind", "statistics", "thresholds"],
            [
                (
                    "[yellow]DRIFT[/]" if d.drifted else "[green]stable[/]",
                    d.column,
                    d.kind,
                    ", ".join(
                        f"{k} {v:.4g}" if v is not None else f"{k} n/a"
                        for k, v in d.statistics.items()
                    ),
                    ", ".join(f"{k} {v}" for k, v in d.thresholds.items()),
                )
                for d in found.drift
            ],
        )
    for c in found.failures():
        for row in c.sample[:_SHOWN_SAMPLES]:
            console.print(f"  [dim]{c.label}[/] {_compact(row)}", highlight=False, markup=True)


def show_ingest(outcome: GatedIngest) -> None:
    """What a gated ingest stored, then its report."""
    if outcome.dataset is not None:
        d = outcome.dataset
        console.print(f"[bold]{d.ref}[/] stored: {d.rows} rows ({outcome.outcome})")
        warn_type_problems(w.message for w in d.warnings)
    if outcome.quarantine is not None:
        q = outcome.quarantine
        console.print(f"[bold]{q.ref}[/] quarantined: {q.rows} rows with their _reasons")
    show_report(outcome.report)
    if outcome.outcome == "stored_with_failures":
        errors.print("warning: stored although error checks failed (--on-fail warn)")


def _compact(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, default=str)
