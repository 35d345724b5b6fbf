"""``shipyard experiments|models``: experiments and the model registry (runs: ``_runs``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._evaluation import gate_app
from shipyard.cli._output import console, emit, table
from shipyard.cli._paging import (
    LimitOption,
    NameContainsOption,
    PageTokenOption,
    show_next_page,
)
from shipyard.cli._tags import TagOption, tag_pairs

if TYPE_CHECKING:
    from shipyard.schemas.datasets import DeletionInfo
    from shipyard.schemas.registry import ModelVersionInfo

experiments_app = typer.Typer(help="Experiments and their runs.", no_args_is_help=True)
models_app = typer.Typer(help="The model registry.", no_args_is_help=True)
models_app.add_typer(gate_app, name="gate")


@experiments_app.command("create")
def create_experiment(name: str, tag: TagOption = None, as_json: JsonOption = False) -> None:
    """Create an experiment (runs also create theirs on first use), with tags if given."""
    e = STATE.client().tracking.create_experiment(name, tags=tag_pairs(tag))
    emit(e, as_json, lambda: console.print(f"created experiment [bold]{e.name}[/]"))


@experiments_app.command("list")
def list_experiments(
    limit: LimitOption = None,
    page_token: PageTokenOption = None,
    name_contains: NameContainsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Experiments by name with their number of runs."""
    items = STATE.client().tracking.list_experiments(
        limit=limit, page_token=page_token, name_contains=name_contains
    )
    emit(
        items,
        as_json,
        lambda: table(
            "Experiments",
            ["name", "runs", "created"],
            [(e.name, e.runs, e.created_at) for e in items],
        ),
    )
    show_next_page(items, as_json)


def _versions_table(title: str, items: list[ModelVersionInfo]) -> None:
    keys = sorted({k for v in items for k in v.metrics if not k.endswith("_std")})[:4]
    table(
        title,
        ["model", "version", "flavor", "approval", "aliases", *keys, "run", "created"],
        [
            (
                v.name,
                v.version,
                v.flavor,
                v.approval,
                ",".join(v.aliases),
                *(v.metrics.get(k) for k in keys),
                v.run_id[:8],
                v.created_at,
            )
            for v in items
        ],
    )


@models_app.command("create")
def create_model(name: str, tag: TagOption = None, as_json: JsonOption = False) -> None:
    """Create a model with no versions yet (register creates one too), with tags if given."""
    m = STATE.client().models.create(name, tags=tag_pairs(tag))
    emit(m, as_json, lambda: console.print(f"created model [bold]{m.name}[/]"))


@models_app.command("register")
def register(
    name: str,
    run_id: Annotated[str, typer.Option("--run", help="Run that produced the model.")],
    as_json: JsonOption = False,
) -> None:
    """Register a run's model as the next version of NAME."""
    v = STATE.client().models.register(name, run_id)
    parents = f", continued from {', '.join(v.parents)}" if v.parents else ""
    emit(
        v,
        as_json,
        lambda: console.print(f"registered [bold]{v.ref}[/] ({v.flavor}, {v.approval}{parents})"),
    )


@models_app.command("list")
def list_models(
    limit: LimitOption = None,
    page_token: PageTokenOption = None,
    name_contains: NameContainsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Registered models by name with their latest version and aliases."""
    items = STATE.client().models.list(
        limit=limit, page_token=page_token, name_contains=name_contains
    )
    emit(
        items,
        as_json,
        lambda: table(
            "Models",
            ["name", "latest", "aliases", "created"],
            [
                (
                    m.name,
                    m.latest_version,
                    ", ".join(f"{a}→{v}" for a, v in sorted(m.aliases.items())),
                    m.created_at,
                )
                for m in items
            ],
        ),
    )
    show_next_page(items, as_json)


@models_app.command("show")
def show_model(
    ref: Annotated[str, typer.Argument(help="NAME, NAME@VERSION or NAME@ALIAS")],
    as_json: JsonOption = False,
) -> None:
    """A model's versions, or one version with its signature."""
    client = STATE.client()
    if "@" in ref:
        v = client.models.version(ref)

        def show() -> None:
            _versions_table(v.ref, [v])
            if v.parents:
                console.print(f"continued from {', '.join(v.parents)} (init_model)")
            if v.code_digest is not None:
                console.print(
                    f"code {v.code_digest} registered by {v.code_registered_by} "
                    "(checked before the code runs)"
                )
            table(
                "Signature",
                ["input", "type"],
                [(c["name"], c["type"]) for c in v.signature["inputs"]],
            )
            if v.gate_checks:
                table(
                    "Gate checks",
                    ["stage", "result", "reason", "checked"],
                    [
                        (g.stage, "passed" if g.passed else "BLOCKED", g.reason, g.checked_at)
                        for g in v.gate_checks
                    ],
                )

        emit(v, as_json, show)
        return
    m = client.models.get(ref)
    emit(m, as_json, lambda: _versions_table(f"Model {m.name}", m.versions))


_ReasonOption = Annotated[
    str | None, typer.Option(help="Why (kept with the decision; at most 1000 characters).")
]


@models_app.command("approve")
def approve(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION")],
    status: Annotated[
        str, typer.Option(help="Approved, Rejected or PendingManualApproval")
    ] = "Approved",
    reason: _ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set a version's approval status (Approved unless --status says otherwise)."""
    _decide(ref, status, reason, as_json)


@models_app.command("reject")
def reject(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION")],
    reason: _ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Mark a version Rejected."""
    _decide(ref, "Rejected", reason, as_json)


def _decide(ref: str, status: str, reason: str | None, as_json: bool) -> None:
    name, _, version = ref.partition("@")
    v = STATE.client().models.set_approval(name, _version(version), status, reason)
    why = f" ({v.approval_reason})" if v.approval_reason else ""
    emit(v, as_json, lambda: console.print(f"{v.ref}: {v.approval}{why}", highlight=False))


@models_app.command("approvals")
def approvals(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION")], as_json: JsonOption = False
) -> None:
    """Every approval decision on a version: status, reason, who, when."""
    name, _, version = ref.partition("@")
    items = STATE.client().models.approval_history(name, _version(version))
    emit(
        items,
        as_json,
        lambda: table(
            f"Approvals of {ref}",
            ["status", "reason", "by", "at"],
            [(d.status, d.reason or "", d.principal, d.decided_at) for d in items],
        ),
    )


def _version(text: str) -> int:
    if not text.isdigit():
        raise typer.BadParameter(f"expected NAME@VERSION with a number, got {text!r}")
    return int(text)


@models_app.command("alias")
def alias(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION")],
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS")],
    as_json: JsonOption = False,
) -> None:
    """Point ALIAS (e.g. champion) at a version."""
    name, _, version = ref.partition("@")
    v = STATE.client().models.set_alias(name, alias_name, _version(version))
    emit(v, as_json, lambda: console.print(f"{name}@{alias_name} → version {v.version}"))


@models_app.command("delete")
def delete(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION, or NAME for every version")],
    reason: Annotated[str, typer.Option(help="Why (kept on the tombstone and in the audit).")],
    as_json: JsonOption = False,
) -> None:
    """Delete a model version (or a whole model); lineage keeps a tombstone."""
    done = STATE.client().models.delete(ref, reason=reason)
    emit(done, as_json, lambda: show_deletion(done))


def show_deletion(done: DeletionInfo) -> None:
    """What a delete left: tombstones, purged blobs, blobs kept because still in use."""
    console.print(
        f"deleted {', '.join(done.deleted) or 'nothing'} ({done.purged_blobs} blobs purged)"
    )
    for kept in done.kept_blobs:
        console.print(f"kept {kept}")


@models_app.command("lineage")
def lineage(
    ref: str,
    kind: Annotated[str, typer.Option(help="model, dataset or run")] = "model",
    as_json: JsonOption = False,
) -> None:
    """Where a model version came from, or what a dataset version or run led to."""
    graph = STATE.client().models.lineage(ref, kind)
    labels = {
        n.id: f"{n.kind} {n.label}" + (f" ({n.deleted})" if n.deleted else "") for n in graph.nodes
    }
    emit(
        graph,
        as_json,
        lambda: table(
            f"Lineage of {ref}", ["from", "to"], [(labels[a], labels[b]) for a, b in graph.edges]
        ),
    )


@models_app.command("update")
def update(
    name: str,
    four_eyes: Annotated[
        bool | None,
        typer.Option(
            "--four-eyes/--no-four-eyes",
            help="Approving a version needs a principal other than whoever registered it or "
            "trained its run.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a model's settings."""
    if four_eyes is None:
        raise typer.BadParameter("nothing to change: give --four-eyes or --no-four-eyes")
    m = STATE.client().models.update(name, four_eyes=four_eyes)
    emit(m, as_json, lambda: console.print(f"{m.name}: four-eyes {'on' if m.four_eyes else 'off'}"))


@models_app.command("card")
def card(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION")],
    output_format: Annotated[
        str, typer.Option("--format", help="markdown, html or json")
    ] = "markdown",
    out: Annotated[str | None, typer.Option(help="Write to this file instead of stdout.")] = None,
) -> None:
    """The version's model card, made from its records: approvals, training run and code,
    training data and its validation, evaluations, gate checks, lineage."""
    renderers = {"markdown": "to_markdown", "html": "to_html", "json": "model_dump_json"}
    if output_format not in renderers:
        raise typer.BadParameter(f"expected markdown, html or json, got {output_format!r}")
    name, _, version = ref.partition("@")
    made = STATE.client().models.card(name, _version(version))
    text = made.model_dump_json(indent=2) + "\n" if output_format == "json" else ""
    text = text or getattr(made, renderers[output_format])()
    if out is None:
        print(text, end="")
        return
    from pathlib import Path

    Path(out).write_text(text)
    console.print(f"wrote the model card of {ref} to {out}", highlight=False)
