"""``shipyard evaluate``, ``shipyard evaluations`` and ``shipyard models gate``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, table
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.schemas.evaluation import EvaluationInfo, GateInfo

evaluations_app = typer.Typer(help="Stored evaluations of model versions.", no_args_is_help=True)
gate_app = typer.Typer(
    help="Thresholds a model's versions must meet to be registered, approved or deployed.",
    no_args_is_help=True,
)

ThresholdOption = Annotated[
    list[str] | None,
    typer.Option("--threshold", help='A rule such as "auc>=0.9" or "rmse<=3.5" (repeatable).'),
]
AbsoluteOption = Annotated[
    list[str] | None,
    typer.Option(
        "--min-absolute-change",
        help="METRIC=CHANGE: better than the baseline by at least CHANGE (repeatable).",
    ),
]
RelativeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--min-relative-change",
        help="METRIC=SHARE: better than the baseline by at least SHARE of it, 0-1 (repeatable).",
    ),
]


def _rules(
    thresholds: list[str] | None, absolute: list[str] | None, relative: list[str] | None
) -> dict[str, dict[str, object]]:
    from shipyard.client._evaluations import threshold_rules
    from shipyard.schemas.thresholds import parse_thresholds

    parsed = parse_thresholds(thresholds or [], absolute or [], relative or [])
    return threshold_rules(parsed)


def _show_evaluation(info: EvaluationInfo) -> None:
    console.print(
        f"[bold]evaluation {info.id}[/]: {info.ref} on {info.data} ({info.rows} rows, "
        f"{info.task})" + (f" against {info.baseline}" if info.baseline else "")
    )
    share = f"{info.confidence:.0%}"
    columns = ["metric", "value", f"{share} low", f"{share} high"]
    base = info.baseline_metrics
    table(
        "Metrics",
        columns + (["baseline"] if base is not None else []),
        [
            (name, m.value, m.low, m.high, *([base.get(name)] if base is not None else []))
            for name, m in info.metrics.items()
        ],
    )
    if info.validation:
        table(
            "Validation",
            ["metric", "rule", "result", "detail"],
            [
                (r.metric, r.rule, "pass" if r.passed else "FAIL", r.message)
                for r in info.validation
            ],
        )
        console.print("validation " + ("[green]passed[/]" if info.passed else "[red]failed[/]"))


def evaluate(
    ref: Annotated[str, typer.Argument(help="Model version: NAME@VERSION or NAME@ALIAS.")],
    data: Annotated[str, typer.Option("--data", help="Labelled dataset version (name@3).")],
    baseline: Annotated[
        str | None, typer.Option(help="Version to compare with, e.g. NAME@champion.")
    ] = None,
    threshold: ThresholdOption = None,
    min_absolute_change: AbsoluteOption = None,
    min_relative_change: RelativeOption = None,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 200,
    confidence: Annotated[float, typer.Option(help="Interval confidence.")] = 0.95,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the HTML report to this file.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Evaluate REF on labelled data: metrics with intervals, curves, an HTML report; with
    thresholds, exit 1 when the version does not meet them."""
    client = STATE.client()
    info = client.evaluations.evaluate(
        ref,
        data,
        baseline=baseline,
        thresholds=_rules(threshold, min_absolute_change, min_relative_change),
        resamples=resamples,
        confidence=confidence,
        seed=seed,
    )
    if report is not None:
        client.evaluations.report(info.id, report)
    emit(info, as_json, lambda: _show_evaluation(info))
    if info.passed is False:
        raise typer.Exit(1)


@evaluations_app.command("list")
def list_evaluations(
    ref: Annotated[str, typer.Argument(help="NAME (every version) or NAME@VERSION.")],
    as_json: JsonOption = False,
) -> None:
    """Stored evaluations of a model or of one version, newest first."""
    items = STATE.client().evaluations.list(ref)
    emit(
        items,
        as_json,
        lambda: table(
            f"Evaluations of {ref}",
            ["id", "version", "data", "rows", "baseline", "passed", "created"],
            [(e.id, e.ref, e.data, e.rows, e.baseline, e.passed, e.created_at) for e in items],
        ),
    )


@evaluations_app.command("show")
def show_evaluation(evaluation_id: str, as_json: JsonOption = False) -> None:
    """One evaluation: metrics with their intervals, and the threshold verdicts."""
    info = STATE.client().evaluations.get(evaluation_id)
    emit(info, as_json, lambda: _show_evaluation(info))


@evaluations_app.command("report")
def save_report(
    evaluation_id: str,
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write the HTML to.")],
) -> None:
    """Write an evaluation's self-contained HTML report to a file."""
    STATE.client().evaluations.report(evaluation_id, out)
    console.print(f"wrote {out}")


def _show_gate(gate: GateInfo) -> None:
    console.print(
        f"[bold]gate on {gate.model}[/]: data {gate.data}, baseline "
        f"{gate.baseline or '-'}, blocks {', '.join(gate.stages)}"
    )
    table(
        "Thresholds",
        ["metric", "threshold", "min absolute change", "min relative change", "greater is better"],
        [
            (m, r.threshold, r.min_absolute_change, r.min_relative_change, r.greater_is_better)
            for m, r in gate.thresholds.items()
        ],
    )


@gate_app.command("set")
def set_gate(
    model: str,
    data: Annotated[str, typer.Option("--data", help="Labelled dataset (name, or name@3).")],
    baseline: Annotated[
        str, typer.Option(help="Alias or version of MODEL to compare with; 'none' for none.")
    ] = "champion",
    threshold: ThresholdOption = None,
    min_absolute_change: AbsoluteOption = None,
    min_relative_change: RelativeOption = None,
    on: Annotated[
        list[str] | None,
        typer.Option("--on", help="Stage to block: register, approve, deploy (default: all)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Hold MODEL's new, approved and deployed versions to thresholds on labelled data."""
    rules = _rules(threshold, min_absolute_change, min_relative_change)
    if not rules:
        raise InvalidInput("give at least one --threshold or --min-*-change", field="threshold")
    gate = STATE.client().evaluations.set_gate(
        model,
        data,
        thresholds=rules,
        baseline=None if baseline == "none" else baseline,
        stages=on,
    )
    emit(gate, as_json, lambda: _show_gate(gate))


@gate_app.command("show")
def show_gate(model: str, as_json: JsonOption = False) -> None:
    """The gate a model's versions are held to: data, baseline, thresholds and stages."""
    gate = STATE.client().evaluations.get_gate(model)
    emit(gate, as_json, lambda: _show_gate(gate))


@gate_app.command("delete")
def delete_gate(model: str, as_json: JsonOption = False) -> None:
    """Remove a model's gate; decisions already recorded on its versions stay."""
    gate = STATE.client().evaluations.delete_gate(model)
    emit(gate, as_json, lambda: console.print(f"removed the gate on {gate.model}"))
