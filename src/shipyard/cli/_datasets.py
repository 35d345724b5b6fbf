"""``shipyard datasets``: ingest files, list and inspect versions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, table, warn_type_problems
from shipyard.cli._paging import (
    LimitOption,
    NameContainsOption,
    PageTokenOption,
    show_next_page,
)
from shipyard.cli._tags import TagOption, tag_pairs
from shipyard.errors import InvalidInput
from shipyard.schemas.gate import OnFail

if TYPE_CHECKING:
    from shipyard.schemas.datasets import DatasetVersionInfo

app = typer.Typer(help="Ingest and inspect versioned datasets.", no_args_is_help=True)


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="CSV, Parquet or JSON Lines file.")],
    name: Annotated[str, typer.Option("--name", "-n", help="Dataset name.")],
    format: Annotated[
        str | None, typer.Option(help="csv, parquet or jsonl (default: from suffix).")
    ] = None,
    partition_by: Annotated[
        str | None,
        typer.Option(
            "--partition-by", help="Column(s), comma-separated: one Parquet file per value."
        ),
    ] = None,
    contract: Annotated[
        str | None, typer.Option(help="Validate against contract NAME[@VERSION] first.")
    ] = None,
    on_fail: Annotated[
        OnFail, typer.Option(help="With --contract, when an error check fails.")
    ] = "reject",
    tag: TagOption = None,
    as_json: JsonOption = False,
) -> None:
    """Store FILE as a new immutable version of dataset NAME (identical content reuses one).

    Files larger than memory are streamed in row groups. With --contract, failing files
    are rejected, their failing rows quarantined in NAME-quarantine, or stored with a warning.
    """
    tags = tag_pairs(tag)
    if contract is not None:
        if tags:
            raise InvalidInput("cannot be combined with --contract", field="tags")
        outcome = STATE.client().contracts.ingest(
            file, name, contract, on_fail=on_fail, format=format
        )
        from shipyard.cli._contracts import show_ingest

        emit(outcome, as_json, lambda: show_ingest(outcome))
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=as_json,
    ) as progress:
        progress.add_task(f"ingesting {file.name} (read, validate, profile, store)", total=None)
        info = STATE.client().datasets.ingest(
            file, name, format=format, partition_by=partition_by, tags=tags
        )
    emit(info, as_json, lambda: _show_ingested(info))


def _show_ingested(info: DatasetVersionInfo) -> None:
    verb = "created" if info.created else "unchanged, existing"
    partitioning = info.profile.get("partitioning")
    parts = (
        f", {partitioning['partitions']} partitions by {', '.join(partitioning['columns'])}"
        if partitioning
        else ""
    )
    console.print(
        f"[bold]{info.ref}[/] {verb}: {info.rows} rows, {len(info.columns)} columns, "
        f"{info.size_bytes} bytes{parts}, {info.digest[:19]}…"
    )
    warn_type_problems(w.message for w in info.warnings)


@app.command("list")
def list_(
    limit: LimitOption = None,
    page_token: PageTokenOption = None,
    name_contains: NameContainsOption = None,
    as_json: JsonOption = False,
) -> None:
    """All datasets with their latest version (or one page: --limit, --page-token)."""
    items = STATE.client().datasets.list(
        limit=limit, page_token=page_token, name_contains=name_contains
    )
    emit(
        items,
        as_json,
        lambda: table(
            "Datasets",
            ["name", "versions", "latest", "rows", "created"],
            [(d.name, d.versions, d.latest_version, d.latest_rows, d.created_at) for d in items],
        ),
    )
    show_next_page(items, as_json)


@app.command()
def versions(name: str, as_json: JsonOption = False) -> None:
    """Every version of a dataset."""
    items = STATE.client().datasets.versions(name)
    emit(
        items,
        as_json,
        lambda: table(
            f"Versions of {name}",
            ["version", "rows", "bytes", "digest", "source", "created"],
            [
                (
                    v.version,
                    v.rows,
                    v.size_bytes,
                    "deleted" if v.deleted_at else v.digest[:19],
                    v.source,
                    v.created_at,
                )
                for v in items
            ],
        ),
    )


@app.command()
def delete(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION, or NAME for every version")],
    reason: Annotated[str, typer.Option(help="Why (kept on the tombstone and in the audit).")],
    force: Annotated[bool, typer.Option(help="Also when a feature view reads it.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Delete a dataset version (or every version): files purged, a tombstone in lineage."""
    from shipyard.cli._registry import show_deletion

    done = STATE.client().datasets.delete(ref, reason=reason, force=force)
    emit(done, as_json, lambda: show_deletion(done))


@app.command()
def erase(
    name: str,
    key: Annotated[str, typer.Option(help="The key column, e.g. customer_id.")],
    reason: Annotated[str, typer.Option(help="Why, e.g. the request's ticket.")],
    values: Annotated[str | None, typer.Option(help="Comma-separated key values.")] = None,
    values_file: Annotated[
        Path | None, typer.Option(help="A file of key values, one per line.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Erase rows by key from every version of a dataset (a data-subject request)."""
    found = [v.strip() for v in (values or "").split(",") if v.strip()]
    if values_file is not None:
        try:
            text = values_file.read_text()
        except OSError as error:
            raise typer.BadParameter(
                f"cannot read: {error.strerror}", param_hint="--values-file"
            ) from None
        found += [line.strip() for line in text.splitlines() if line.strip()]
    if not found:
        raise typer.BadParameter("give --values or --values-file", param_hint="--values")
    done = STATE.client().datasets.erase(name, key=key, values=found, reason=reason)
    emit(
        done,
        as_json,
        lambda: table(
            f"Erasure {done.id} of {name} by {key} ({done.value_count} values)",
            ["version", "rows removed", "rows now", "digest"],
            [(v.version, v.rows_removed, v.rows, v.digest[:19]) for v in done.versions],
        ),
    )


@app.command()
def erasures(name: str, as_json: JsonOption = False) -> None:
    """The erasure requests applied to a dataset (no values: a salted hash of them)."""
    items = STATE.client().datasets.erasures(name)
    emit(
        items,
        as_json,
        lambda: table(
            f"Erasures of {name}",
            ["id", "key", "values", "rows removed", "by", "reason", "when"],
            [
                (e.id, e.key, e.value_count, e.rows_removed, e.requested_by, e.reason, e.created_at)
                for e in items
            ],
        ),
    )


@app.command()
def show(
    ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION")], as_json: JsonOption = False
) -> None:
    """Schema and statistics profile of a version."""
    info = STATE.client().datasets.get(ref)
    emit(info, as_json, lambda: _show_profile(info))


def _show_profile(info: DatasetVersionInfo) -> None:
    _show_ingested(info)
    columns = {c["name"]: c for c in info.columns}
    rows = []
    for col in info.profile.get("columns", []):
        quantiles = col.get("quantiles") or {}
        top = col.get("top_values") or []
        rows.append(
            (
                col["name"],
                columns.get(col["name"], {}).get("type", col.get("type")),
                col.get("nulls"),
                col.get("distinct"),
                col.get("min"),
                col.get("max"),
                col.get("mean"),
                col.get("std"),
                quantiles.get("p50"),
                ", ".join(f"{t['value']}({t['count']})" for t in top[:3]) or None,
            )
        )
    table(
        "Profile",
        ["column", "type", "nulls", "distinct", "min", "max", "mean", "std", "median", "top"],
        rows,
    )


@app.command()
def head(
    ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION")],
    rows: Annotated[int, typer.Option("--rows", "-n")] = 10,
    as_json: JsonOption = False,
) -> None:
    """The first rows of a version."""
    preview = STATE.client().datasets.head(ref, rows)
    emit(
        preview,
        as_json,
        lambda: table(
            f"{preview.name}@{preview.version}",
            preview.columns,
            [[r.get(c) for c in preview.columns] for r in preview.rows],
        ),
    )


@app.command()
def export(
    ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION")],
    file: Annotated[Path, typer.Argument(help="The file to write (.csv or .parquet).")],
    format: Annotated[
        str | None, typer.Option(help="csv or parquet (default: from the file's suffix).")
    ] = None,
    columns: Annotated[
        str | None, typer.Option(help="Columns to keep, comma-separated (default: all).")
    ] = None,
    filter: Annotated[
        str | None, typer.Option(help="Rows to keep, e.g. \"age > 30 and country = 'FR'\".")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write a version to FILE as CSV or Parquet, streamed in batches of rows.

    FILE appears whole or not at all: rows go to a temporary file beside it, renamed at the end.
    """
    chosen = [c.strip() for c in columns.split(",")] if columns is not None else None
    summary = STATE.client().datasets.export(
        ref, file, format=format, columns=chosen, filter=filter
    )
    emit(
        summary,
        as_json,
        lambda: console.print(
            f"[bold]{ref}[/] exported: {summary.rows} rows to {summary.path} "
            f"({summary.format}, {summary.size_bytes} bytes)"
        ),
    )
