"""``shipyard runs``: search, show and compare tracked runs; delete, restore and purge them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, table
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.schemas.tracking import RunInfo

runs_app = typer.Typer(
    help="Tracked runs: search, show, compare, delete, restore, purge.", no_args_is_help=True
)

_FILTER_HELP = "MLflow search syntax, e.g. \"metrics.auc > 0.8 and params.max_depth = '6'\"."


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@runs_app.command("list")
def list_runs(
    experiment: Annotated[
        list[str] | None,
        typer.Option("--experiment", "-e", help="Repeat for several; default: every one."),
    ] = None,
    filter_: Annotated[str, typer.Option("--filter", "-f", help=_FILTER_HELP)] = "",
    order_by: Annotated[
        list[str] | None,
        typer.Option("--order-by", help="e.g. 'metrics.auc DESC'; repeat for ties."),
    ] = None,
    parent: Annotated[
        str | None, typer.Option("--parent", help="Only this run's children.")
    ] = None,
    max_results: Annotated[int, typer.Option("--max-results", "-n")] = 100,
    page_token: Annotated[str | None, typer.Option("--page-token")] = None,
    as_json: JsonOption = False,
) -> None:
    """Runs matching a filter, sorted, newest first by default, with their metrics."""
    client = STATE.client()
    experiments = list(experiment or [])
    if parent is not None:
        if not experiments:
            experiments = [client.tracking.get_run(parent).experiment]
        nested = f"attributes.parent_run_id = {_quoted(parent)}"
        filter_ = f"{nested} and {filter_}" if filter_.strip() else nested
    page = client.tracking.search_runs(
        experiments or None, filter_, order_by, max_results, page_token
    )
    items = page.runs
    keys = sorted({k for r in items for k in r.metrics})[:6]

    def show() -> None:
        table(
            "Runs" + (f" of {', '.join(experiments)}" if experiments else ""),
            ["id", "experiment", "name", "status", "parent", *keys, "started"],
            [
                (
                    r.id,
                    r.experiment,
                    r.name,
                    r.status,
                    (r.parent_run_id or "")[:8],
                    *(r.metrics.get(k) for k in keys),
                    r.start_time,
                )
                for r in items
            ],
        )
        if page.next_page_token:
            console.print(f"more: --page-token {page.next_page_token}")

    emit(page, as_json, show)


@runs_app.command("show")
def show_run(run_id: str, as_json: JsonOption = False) -> None:
    """A run's params, metrics, tags, inputs and artifacts."""
    run = STATE.client().tracking.get_run(run_id)

    def show() -> None:
        console.print(f"[bold]run {run.id}[/] ({run.name}) in {run.experiment}: {run.status}")
        if run.parent_run_id:
            console.print(f"parent: {run.parent_run_id}")
        table("Params", ["key", "value"], sorted(run.params.items()))
        table("Metrics", ["key", "value"], sorted(run.metrics.items()))
        table("Tags", ["key", "value"], sorted(run.tags.items()))
        table(
            "Artifacts",
            ["path", "bytes", "digest"],
            [(a.path, a.size_bytes, a.digest[:19]) for a in run.artifacts],
        )
        console.print(f"inputs: {', '.join(run.inputs) or '-'}")
        if run.input_models:
            console.print(f"continued from model {', '.join(run.input_models)} (init_model)")

    emit(run, as_json, show)


def comparison_rows(runs: list[RunInfo]) -> list[tuple[str, list[Any]]]:
    """Rows of a side-by-side comparison: a few attributes, then every param, then every
    final metric value; a key a run lacks is None, and rows whose values differ are marked."""
    rows: list[tuple[str, list[Any]]] = [
        ("experiment", [r.experiment for r in runs]),
        ("status", [r.status for r in runs]),
        ("parent", [(r.parent_run_id or "")[:8] or None for r in runs]),
    ]
    for prefix, section in (("params", "params"), ("metrics", "metrics")):
        for key in sorted({k for r in runs for k in getattr(r, section)}):
            rows.append((f"{prefix}.{key}", [getattr(r, section).get(key) for r in runs]))
    return rows


@runs_app.command("compare")
def compare_runs(
    run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids.")],
    html: Annotated[
        Path | None, typer.Option("--html", help="Write metric histories as an HTML chart.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Params and final metrics of runs side by side; --html charts their histories."""
    if len(run_ids) < 2:
        raise InvalidInput("give at least two runs to compare", field="run_ids")
    client = STATE.client()
    runs = [client.tracking.get_run(run_id) for run_id in run_ids]
    if html is not None:
        series = [client.tracking.metric_series(r.id) for r in runs]
        try:
            from shipyard.tracking._chart import metric_chart_html

            html.write_text(metric_chart_html(runs, series), encoding="utf-8")
        except OSError as error:
            raise InvalidInput(f"cannot write {html}: {error.strerror}", field="html") from None
    rows = comparison_rows(runs)

    def show() -> None:
        marked = [
            (f"[bold]{key}[/]" if len({repr(v) for v in values}) > 1 else key, *values)
            for key, values in rows
        ]
        table("Runs compared (bold: values differ)", ["", *(r.name for r in runs)], marked)
        console.print("ids: " + "  ".join(r.id for r in runs))
        if html is not None:
            console.print(f"metric histories: {html}")

    emit(runs, as_json, show)


@runs_app.command("delete")
def delete_run(run_id: str, as_json: JsonOption = False) -> None:
    """Delete a run softly: hidden from lists, restorable until it is purged."""
    run = STATE.client().tracking.delete_run(run_id)
    emit(run, as_json, lambda: console.print(f"run {run.id} deleted (restorable)"))


@runs_app.command("restore")
def restore_run(run_id: str, as_json: JsonOption = False) -> None:
    """Bring a deleted run back."""
    run = STATE.client().tracking.restore_run(run_id)
    emit(run, as_json, lambda: console.print(f"run {run.id} restored"))


@runs_app.command("purge")
def purge_runs(
    reason: Annotated[str, typer.Option(help="Why (kept on the tombstone and in the audit).")],
    run_ids: Annotated[
        list[str] | None, typer.Argument(help="Deleted runs to purge (or use --experiment).")
    ] = None,
    experiment: Annotated[
        str | None, typer.Option("--experiment", "-e", help="Its deleted runs.")
    ] = None,
    older_than: Annotated[
        str | None,
        typer.Option("--older-than", help="Only runs deleted this long ago, e.g. 30d, 12h."),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Only list what would be purged.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Purge deleted runs for good: params, metrics, tags and artifacts go (a blob another
    record still uses stays); a tombstone stays in lineage."""
    done = STATE.client().tracking.purge_runs(
        run_ids or None,
        reason=reason,
        experiment=experiment,
        older_than=older_than,
        dry_run=dry_run,
    )

    def show() -> None:
        verb = "would purge" if dry_run else "purged"
        blobs = f"{done.purged_blobs} blobs {'to purge' if dry_run else 'purged'}"
        console.print(f"{verb} {len(done.purged)} runs ({blobs}): {' '.join(done.purged) or '-'}")
        for kept in done.kept_blobs:
            console.print(f"kept {kept}")
        if done.more:
            console.print("more deleted runs remain: run the purge again")

    emit(done, as_json, show)
