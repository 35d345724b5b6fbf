"""A run's self-contained HTML report: per variant the drift table, each feature's
distribution (baseline against window) and quality over time, as inline SVG (no scripts)."""

from __future__ import annotations

from datetime import datetime
from html import escape

import numpy as np

from shipyard.evaluation._svg import line_chart
from shipyard.schemas.monitoring import FeatureDrift, MonitorResult, VariantResult

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
    "text-align:left}th{background:#f4f4f4}.drift{color:#b00;font-weight:600}"
    ".charts{display:flex;flex-wrap:wrap;gap:12px}svg{background:#fff;border:1px solid #eee}"
)
BAR_WIDTH, BAR_HEIGHT = 320, 150


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _bars(feature: FeatureDrift) -> str:
    """Baseline (grey) and current (blue) shares per bin, side by side."""
    bins = feature.bins
    if not bins:
        return ""
    top = max(max(b, c) for _, b, c in bins) or 1.0
    step = (BAR_WIDTH - 20) / len(bins)
    parts = []
    for i, (label, base, current) in enumerate(bins):
        x = 10 + i * step
        for offset, share, colour in ((0.0, base, "#aaa"), (step / 2, current, "#1f77b4")):
            height = share / top * (BAR_HEIGHT - 40)
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{BAR_HEIGHT - 20 - height:.1f}" '
                f'width="{max(step / 2 - 1, 1):.1f}" height="{height:.1f}" fill="{colour}">'
                f"<title>{escape(label)}: {share:.3f}</title></rect>"
            )
    verdict = "drifted" if feature.drifted else "stable"
    return (
        f'<svg width="{BAR_WIDTH}" height="{BAR_HEIGHT}" role="img" '
        f'aria-label="{escape(feature.feature)}">'
        f'<text x="10" y="14" font-size="12">{escape(feature.feature)} ({verdict}; grey '
        f"baseline, blue window)</text>{''.join(parts)}</svg>"
    )


def _drift_table(features: list[FeatureDrift]) -> str:
    rows = "".join(
        f"<tr{' class=drift' if f.drifted else ''}><td>{escape(f.feature)}</td><td>{f.kind}</td>"
        f"<td>{escape(f.method)}</td><td>{_number(f.score)}</td><td>{escape(f.rule)}</td>"
        f"<td>{'yes' if f.drifted else 'no'}</td><td>{f.reference_rows}</td>"
        f"<td>{f.current_rows}</td><td>{f.missing_share:.3f}</td>"
        f"<td>{_number(f.unseen_share)}</td></tr>"
        for f in features
    )
    return (
        "<table><tr><th>feature</th><th>type</th><th>method</th><th>score</th><th>rule</th>"
        "<th>drifted</th><th>baseline rows</th><th>window rows</th><th>missing</th>"
        f"<th>unseen</th></tr>{rows}</table>"
    )


def _history_chart(variant: str, history: dict[str, list[tuple[datetime, float]]]) -> str:
    series = []
    for name, points in sorted(history.items()):
        if not name.endswith(f"@{variant}") or len(points) < 2:
            continue
        xs = np.array([p[0].timestamp() / 3600 for p in points])
        series.append((name, xs - xs[0], np.array([p[1] for p in points])))
    if not series:
        return ""
    return line_chart(
        f"history-{escape(variant)}", "Over time", "hours since the first window", "value", series
    )


def _variant(result: VariantResult, history: dict[str, list[tuple[datetime, float]]]) -> str:
    parts = [
        f"<h2>Variant {escape(result.variant)}</h2><p>model {escape(result.model or '-')} · "
        f"baseline {escape(result.baseline or '-')} · {result.requests} requests, "
        f"{result.rows} rows · schema violations {result.schema_violations} · missing share "
        f"{_number(result.missing_share)} · unseen share {_number(result.unseen_share)}</p>"
    ]
    parts.extend(f"<p><em>{escape(note)}</em></p>" for note in result.notes)
    if result.features:
        parts.append(
            f"<h3>Data drift</h3><p>share of drifted features {_number(result.drift_share)}"
            f" (dataset drift at >= {result.drift_share_threshold}): "
            f"{'<b class=drift>drift</b>' if result.dataset_drift else 'no drift'}</p>"
        )
        parts.append(_drift_table(result.features))
    if result.prediction is not None:
        parts.append("<h3>Prediction drift</h3>" + _drift_table([result.prediction]))
    charts = [
        _bars(f) for f in ([result.prediction] if result.prediction else []) + result.features
    ]
    if any(charts):
        parts.append(f"<h3>Distributions</h3><div class=charts>{''.join(charts)}</div>")
    if result.quality is not None:
        q = result.quality
        others = ", ".join(f"{k} {_number(v)}" for k, v in q.others.items())
        parts.append(
            f"<h3>Quality</h3><p>{q.metric} {_number(q.value)} on {q.labelled} labelled rows"
            f"{' · ' + others if others else ''}</p>"
        )
    if result.estimated is not None:
        e = result.estimated
        body = (
            f"refused: {escape(e.refused)}"
            if e.refused
            else ", ".join(f"{k} {_number(v)}" for k, v in e.metrics.items()) + f" on {e.rows} rows"
        )
        assumptions = "".join(f"<li>{escape(a)}</li>" for a in e.assumptions)
        parts.append(
            f"<h3>Estimated performance</h3><p>{escape(e.method)}: {body}</p>"
            f"<p>Assumptions:</p><ul>{assumptions}</ul>"
        )
    if result.attribution is not None:
        a = result.attribution
        if a.refused:
            parts.append(f"<h3>Attribution drift</h3><p>refused: {escape(a.refused)}</p>")
        else:
            rows = "".join(
                f"<tr><td>{escape(k)}</td><td>{_number(v)}</td>"
                f"<td>{_number(a.current.get(k))}</td></tr>"
                for k, v in sorted(a.baseline.items(), key=lambda kv: -kv[1])
            )
            parts.append(
                f"<h3>Attribution drift</h3><p>{escape(a.method)}: score {_number(a.score)}"
                f" (threshold {a.threshold}) {'<b class=drift>drift</b>' if a.drifted else ''}"
                f"</p><table><tr><th>feature</th><th>baseline mean |SHAP|</th>"
                f"<th>window mean |SHAP|</th></tr>{rows}</table>"
            )
    parts.append(_history_chart(result.variant, history))
    return "".join(parts)


def render_report(result: MonitorResult, history: dict[str, list[tuple[datetime, float]]]) -> bytes:
    """The report as UTF-8 HTML, with the series so far (``history``) for the time charts."""
    title = f"Monitor {result.monitor} on {result.endpoint}"
    merged = {name: list(points) for name, points in history.items()}
    for name, (value, _) in result.metrics.items():
        merged.setdefault(name, []).append((result.window_end, value))
    methods = "".join(f"<li>{escape(k)}: {escape(v)}</li>" for k, v in result.methods.items())
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>window {escape(result.window_start.isoformat())} to "
        f"{escape(result.window_end.isoformat())} · checks {escape(', '.join(result.kinds))}</p>"
        f"<p>Methods and thresholds:</p><ul>{methods}</ul>"
        + "".join(_variant(v, merged) for v in result.variants)
        + "</body></html>"
    )
    return page.encode()
