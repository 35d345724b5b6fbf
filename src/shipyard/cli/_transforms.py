"""``shipyard transforms``: apply SQL or Python transforms, run them (cached), inspect lineage."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, table

if TYPE_CHECKING:
    from shipyard.schemas.transforms import TransformRunInfo, TransformVersionInfo

app = typer.Typer(
    help="Versioned SQL (DuckDB/Spark) or Python steps from dataset versions to new ones.",
    no_args_is_help=True,
)


@app.command()
def apply(
    file: Annotated[Path, typer.Argument(help="YAML: name, inputs, sql or python, output.")],
    as_json: JsonOption = False,
) -> None:
    """Register FILE as the next version of its transform (an unchanged spec is kept)."""
    info = STATE.client().transforms.apply(file)
    verb = "created" if info.created else "unchanged, existing"
    emit(
        info,
        as_json,
        lambda: console.print(
            f"[bold]{info.ref}[/] {verb}: {info.kind} transform of "
            f"{', '.join(info.spec.inputs.values())} -> {info.output_dataset}"
        ),
    )


@app.command()
def run(
    ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION")],
    force: Annotated[bool, typer.Option(help="Run even if code and inputs are unchanged.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Run a transform; only when its code or inputs changed since a run with the same result."""
    status = console.status(f"running {ref}", spinner="dots")
    with nullcontext() if as_json else status:
        info = STATE.client().transforms.run(ref, force=force)
    emit(info, as_json, lambda: _show_run(info))


def _show_run(info: TransformRunInfo) -> None:
    inputs = ", ".join(f"{alias}={ref}" for alias, ref in info.inputs.items())
    if info.cached:
        console.print(
            f"[bold]{info.transform}@{info.version}[/] cached: code and inputs ({inputs}) "
            f"unchanged since run {info.id[:8]}; output [bold]{info.output}[/]"
        )
        return
    seconds = (info.ended_at - info.started_at).total_seconds()
    console.print(
        f"[bold]{info.transform}@{info.version}[/] ran on {info.engine} in {seconds:.2f} s: "
        f"{inputs} -> [bold]{info.output}[/] ({info.output_rows} rows)"
    )


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """All transforms with their latest version and last output."""
    items = STATE.client().transforms.list()
    emit(
        items,
        as_json,
        lambda: table(
            "Transforms",
            ["name", "latest", "kind", "output", "runs", "last output"],
            [
                (t.name, t.latest_version, t.kind, t.output_dataset, t.runs, t.last_output)
                for t in items
            ],
        ),
    )


@app.command()
def show(
    ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION")], as_json: JsonOption = False
) -> None:
    """A transform version's spec and its runs."""
    client = STATE.client()
    info = client.transforms.get(ref)
    runs = [r for r in client.transforms.runs(info.name) if r.version == info.version]
    emit(info, as_json, lambda: _show_version(info, runs))


def _show_version(info: TransformVersionInfo, runs: list[TransformRunInfo]) -> None:
    console.print(
        f"[bold]{info.ref}[/] ({info.kind}) by {info.created_by}, {info.code_digest[:19]}…"
    )
    if info.spec.description:
        console.print(info.spec.description)
    for alias, ref in info.spec.inputs.items():
        console.print(f"  input  {alias} = {ref}")
    parts = info.spec.output.partition_by
    console.print(
        f"  output {info.output_dataset}" + (f" partitioned by {', '.join(parts)}" if parts else "")
    )
    if info.spec.sql is not None:
        console.print(info.spec.sql.strip(), markup=False, highlight=False)
    elif info.spec.python is not None:
        console.print(f"  python {info.spec.python.entrypoint} ({info.spec.python.file})")
    table(
        "Runs",
        ["run", "engine", "inputs", "output", "rows", "ended"],
        [
            (
                r.id[:8],
                r.engine,
                ", ".join(r.inputs.values()),
                r.output,
                r.output_rows,
                r.ended_at,
            )
            for r in runs
        ],
    )


@app.command()
def lineage(
    ref: Annotated[str, typer.Argument(help="DATASET or DATASET@VERSION")],
    downstream: Annotated[
        bool, typer.Option(help="What was made from it, instead of what it came from.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The transforms and dataset versions a dataset version came from (or led to)."""
    graph = STATE.client().transforms.lineage(ref, "downstream" if downstream else "upstream")
    labels = {node.id: f"{node.kind} {node.label}" for node in graph.nodes}
    emit(
        graph,
        as_json,
        lambda: table(
            f"Lineage of {labels[graph.root]}",
            ["from", "to"],
            [(labels[a], labels[b]) for a, b in graph.edges],
        ),
    )
