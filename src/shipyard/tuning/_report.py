"""The tuning report: one self-contained HTML page (plotly.js embedded, no network) with the
optimization history, parameter importances and parallel coordinates of a study."""

from __future__ import annotations

import html
import warnings
from typing import Any

import optuna

from shipyard.errors import InvalidInput
from shipyard.schemas.tuning import PruningSavings
from shipyard.schemas.tuning_spec import TuningSpec

EXTRA = "reports"


def render_report(
    study: optuna.Study, spec: TuningSpec, title: str, saved: PruningSavings | None = None
) -> str:
    """The report's HTML; InvalidInput naming the ``reports`` extra if plotly is missing."""
    try:
        import plotly  # noqa: F401
        from optuna import visualization
    except ImportError:
        raise InvalidInput(
            f"the tuning report needs plotly: pip install 'shipyard[{EXTRA}]'", field="report"
        ) from None
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # optuna's notes on few trials per regime, experimental APIs
        return _render(study, spec, title, visualization, saved)


def _render(
    study: optuna.Study,
    spec: TuningSpec,
    title: str,
    visualization: Any,
    saved: PruningSavings | None,
) -> str:
    goals = spec.goals
    sections: list[tuple[str, str]] = []
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    for index, goal in enumerate(goals):
        target = (lambda t, i=index: t.values[i]) if len(goals) > 1 else None
        name = goal.metric
        history = visualization.plot_optimization_history(study, target=target, target_name=name)
        sections.append((f"Optimization history: {name}", _figure(history, first=not sections)))
        if len(complete) >= 2 and len(spec.search_space) > 1:
            importances = visualization.plot_param_importances(
                study, target=target, target_name=name
            )
            sections.append((f"Parameter importances: {name}", _figure(importances, False)))
        if complete:
            coordinates = visualization.plot_parallel_coordinate(
                study, target=target, target_name=name
            )
            sections.append((f"Parallel coordinates: {name}", _figure(coordinates, False)))
    if len(goals) == 2 and complete:
        front = visualization.plot_pareto_front(study, target_names=[g.metric for g in goals])
        sections.append(("Pareto front", _figure(front, False)))
    body = "\n".join(f"<h2>{html.escape(h)}</h2>\n{figure}" for h, figure in sections)
    counts = {
        state.name.lower(): len(study.get_trials(deepcopy=False, states=(state,)))
        for state in (
            optuna.trial.TrialState.COMPLETE,
            optuna.trial.TrialState.PRUNED,
            optuna.trial.TrialState.FAIL,
        )
    }
    summary = ", ".join(f"{n} {state}" for state, n in counts.items())
    savings = f"<p>{html.escape(saved.sentence())}</p>\n" if saved else ""
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body style='font-family:sans-serif'>"
        f"<h1>{html.escape(title)}</h1><p>strategy {html.escape(spec.strategy)}, pruner "
        f"{html.escape(spec.pruner)}; trials: {html.escape(summary)}</p>\n{savings}{body}"
        "</body></html>"
    )


def _figure(figure: object, first: bool) -> str:
    """A figure as an HTML fragment; plotly.js is embedded once, in the first."""
    return str(figure.to_html(full_html=False, include_plotlyjs=first))  # type: ignore[attr-defined]
