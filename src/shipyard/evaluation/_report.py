"""The evaluation report: one self-contained HTML page (inline SVG, inline CSS, no scripts).

Every string that came from a user (model, dataset, class labels, principal) is escaped.
"""

from __future__ import annotations

from html import escape

import numpy as np

from shipyard.evaluation._curves import one_vs_rest, pr_curve, roc_curve
from shipyard.evaluation._scoring import Scored
from shipyard.evaluation._svg import histogram_chart, line_chart, scatter_chart
from shipyard.schemas.evaluation import EvaluationInfo

_MAX_POINTS = 2_000
_STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
    "margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
    "th{background:#f4f4f4}.pass{color:#2ca02c}.fail{color:#d62728}"
    "figure{display:inline-block;margin:0 1em 1em 0}"
)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _metrics_table(info: EvaluationInfo) -> str:
    share = f"{info.confidence:.0%}"
    head = f"<tr><th>metric</th><th>value</th><th>{share} interval</th>"
    head += "<th>baseline</th></tr>" if info.baseline_metrics is not None else "</tr>"
    rows = []
    for name, m in info.metrics.items():
        cells = f"<td>{escape(name)}</td><td>{_number(m.value)}</td>"
        cells += f"<td>{_number(m.low)} to {_number(m.high)}</td>"
        if info.baseline_metrics is not None:
            cells += f"<td>{_number(info.baseline_metrics.get(name))}</td>"
        rows.append(f"<tr>{cells}</tr>")
    return f'<table id="metrics">{head}{"".join(rows)}</table>'


def _validation_table(info: EvaluationInfo) -> str:
    if not info.validation:
        return ""
    verdict = "passed" if info.passed else "failed"
    rows = "".join(
        f"<tr><td>{escape(r.metric)}</td><td>{escape(r.rule)}</td>"
        f'<td class="{"pass" if r.passed else "fail"}">{"pass" if r.passed else "fail"}</td>'
        f"<td>{escape(r.message)}</td></tr>"
        for r in info.validation
    )
    return (
        f'<h2>Validation: <span class="{"pass" if info.passed else "fail"}">{verdict}</span></h2>'
        f'<table id="validation"><tr><th>metric</th><th>rule</th><th>result</th><th>detail</th>'
        f"</tr>{rows}</table>"
    )


def _confusion_table(info: EvaluationInfo) -> str:
    if info.confusion_matrix is None or info.classes is None:
        return ""
    labels = [escape(str(c)) for c in info.classes]
    peak = max((max(r) for r in info.confusion_matrix), default=1) or 1
    head = "<tr><th>actual \\ predicted</th>" + "".join(f"<th>{c}</th>" for c in labels) + "</tr>"
    rows = []
    for label, counts in zip(labels, info.confusion_matrix, strict=True):
        cells = "".join(
            f'<td style="background:rgba(31,119,180,{0.8 * n / peak:.2f})">{n}</td>' for n in counts
        )
        rows.append(f"<tr><th>{label}</th>{cells}</tr>")
    return f'<h2>Confusion matrix</h2><table id="confusion-matrix">{head}{"".join(rows)}</table>'


def _classification_charts(scored: Scored) -> str:
    if scored.probabilities is None or scored.classes is None:
        return ""
    curves = one_vs_rest(scored.y_true, scored.probabilities, [str(c) for c in scored.classes])
    roc = [(label, *roc_curve(positive, score)) for label, positive, score in curves]
    pr = [(label, *pr_curve(positive, score)) for label, positive, score in curves]
    return (
        "<h2>Curves</h2><figure>"
        + line_chart(
            "roc-curve",
            "ROC curve",
            "false positive rate",
            "true positive rate",
            roc,
            unit_square=True,
            diagonal=True,
        )
        + "</figure><figure>"
        + line_chart(
            "pr-curve", "Precision-recall curve", "recall", "precision", pr, unit_square=True
        )
        + "</figure>"
    )


def _regression_charts(scored: Scored, seed: int) -> str:
    rows = len(scored.y_true)
    pick = np.arange(rows)
    if rows > _MAX_POINTS:
        pick = np.sort(np.random.default_rng(seed).choice(rows, _MAX_POINTS, replace=False))
    actual, predicted = scored.y_true[pick], scored.y_pred[pick]
    residual = scored.y_true - scored.y_pred
    return (
        "<h2>Residuals</h2><figure>"
        + scatter_chart(
            "residual-plot",
            "Residuals against predictions",
            "predicted",
            "actual - predicted",
            predicted,
            actual - predicted,
            reference=0.0,
        )
        + "</figure><figure>"
        + scatter_chart(
            "prediction-plot",
            "Predicted against actual",
            "actual",
            "predicted",
            actual,
            predicted,
            identity=True,
        )
        + "</figure><figure>"
        + histogram_chart("residual-histogram", "Residual distribution", "residual", residual)
        + "</figure>"
    )


def render_report(info: EvaluationInfo, scored: Scored) -> bytes:
    """The whole report as UTF-8 HTML."""
    title = f"Evaluation of {info.ref} on {info.data}"
    against = f" against {escape(info.baseline)}" if info.baseline else ""
    charts = (
        _classification_charts(scored)
        if info.task == "classification"
        else _regression_charts(scored, info.seed)
    )
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f"<p>{escape(info.task)} · target <code>{escape(info.target)}</code> · "
        f"{info.rows} rows{against} · {info.resamples} bootstrap resamples (seed {info.seed}) · "
        f"evaluation {escape(info.id)} by {escape(info.created_by)} at "
        f"{escape(info.created_at.isoformat())}</p>"
        f"<h2>Metrics</h2>{_metrics_table(info)}{_validation_table(info)}"
        f"{_confusion_table(info)}{charts}</body></html>"
    )
    return page.encode()
