"""A validation report as one self-contained HTML page: inline CSS and SVG, no network assets."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from shipyard.schemas.contract_report import CheckResult, DriftBin, DriftResult, ValidationReport

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d232b;max-width:1100px}
h1{font-size:1.4rem;margin:0 0 .3rem}h2{font-size:1.1rem;margin:1.8rem 0 .6rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0}
th,td{border-bottom:1px solid #dde2e8;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f8;font-weight:600}code{font-size:12px;word-break:break-all}
.badge{display:inline-block;padding:.1rem .55rem;border-radius:.8rem;color:#fff;font-weight:600}
.passed{background:#1f8a4c}.warned{background:#c98a00}.failed{background:#c62828}
.ok{color:#1f8a4c;font-weight:600}.bad{color:#c62828;font-weight:600}
.warnc{color:#c98a00;font-weight:600}.muted{color:#66707c}
figure{margin:1rem 0}figcaption{font-weight:600;margin-bottom:.3rem}
details{margin:.3rem 0 .8rem}
"""
_WIDTH, _HEIGHT, _PAD = 640, 180, 28


def render_html(report: ValidationReport) -> str:
    """The report as a standalone HTML document."""
    title = f"Validation of {report.dataset or 'data'} against {report.contract}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p><span class='badge {report.status}'>{report.status}</span> "
        f"{report.rows:,} rows · {len(report.checks)} checks · "
        f"{len(report.failures())} failed · "
        f"{sum(d.drifted for d in report.drift)} of {len(report.drift)} columns drifted"
        f"{_when(report)}</p>",
        _checks_table(report.checks),
        _samples(report.checks),
    ]
    if report.drift:
        parts += [
            "<h2>Drift against the contract's reference</h2>",
            f"<p class='muted'>{escape(report.drift_method)}</p>",
            _drift_table(report.drift),
            _histograms(report),
        ]
    parts.append("</body></html>")
    return "".join(parts)


def _when(report: ValidationReport) -> str:
    if report.created_at is None:
        return ""
    by = f" by {escape(report.created_by)}" if report.created_by else ""
    return f" · report {report.id} at {report.created_at:%Y-%m-%d %H:%M:%S}{by}"


def _checks_table(checks: list[CheckResult]) -> str:
    rows = []
    for c in checks:
        status = "ok" if c.passed else ("bad" if c.severity == "error" else "warnc")
        share = f"{c.failing_share:.3%}" if c.failing_share is not None else ""
        rows.append(
            f"<tr><td class='{status}'>{'pass' if c.passed else 'FAIL'}</td>"
            f"<td>{escape(c.column or '(table)')}</td><td>{escape(c.check)}</td>"
            f"<td>{c.severity}</td><td><code>{_json(c.expected)}</code></td>"
            f"<td><code>{_json(c.observed)}</code>{_message(c)}</td>"
            f"<td>{'' if c.failing_rows is None else f'{c.failing_rows:,}'}</td>"
            f"<td>{share}</td></tr>"
        )
    head = (
        "<tr><th>result</th><th>column</th><th>check</th><th>severity</th><th>expected</th>"
        "<th>observed</th><th>failing rows</th><th>share</th></tr>"
    )
    return f"<h2>Checks</h2><table>{head}{''.join(rows)}</table>"


def _message(check: CheckResult) -> str:
    return f"<div class='muted'>{escape(check.message)}</div>" if check.message else ""


def _samples(checks: list[CheckResult]) -> str:
    blocks = []
    for c in checks:
        if c.passed or not c.sample:
            continue
        columns = list(dict.fromkeys(key for row in c.sample for key in row))
        head = "".join(f"<th>{escape(k)}</th>" for k in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(_text(row.get(k)))}</td>" for k in columns) + "</tr>"
            for row in c.sample
        )
        blocks.append(
            f"<details open><summary>{escape(c.label)}: {len(c.sample)} sample rows"
            f"</summary><table><tr>{head}</tr>{body}</table></details>"
        )
    return "<h2>Failing rows (samples)</h2>" + "".join(blocks) if blocks else ""


def _drift_table(drift: list[DriftResult]) -> str:
    rows = []
    for d in drift:
        status = ("bad" if d.severity == "error" else "warnc") if d.drifted else "ok"
        stats = ", ".join(
            f"{k} {v:.4g}" if v is not None else f"{k} n/a" for k, v in d.statistics.items()
        )
        limits = ", ".join(f"{k} {v}" for k, v in d.thresholds.items())
        rows.append(
            f"<tr><td class='{status}'>{'DRIFT' if d.drifted else 'stable'}</td>"
            f"<td>{escape(d.column)}</td><td>{d.kind}</td><td>{escape(stats)}</td>"
            f"<td>{escape(limits)}</td><td>{d.reference_count:,} / {d.current_count:,}</td></tr>"
        )
    head = (
        "<tr><th>result</th><th>column</th><th>kind</th><th>statistics</th>"
        "<th>thresholds</th><th>values (reference / current)</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def _histograms(report: ValidationReport) -> str:
    extremes = {c.name: (c.min, c.max) for c in report.columns}
    drifting = [d for d in report.drift if d.drifted]
    stable = [d for d in report.drift if not d.drifted]
    figures = [_figure(d, extremes.get(d.column)) for d in drifting]
    if stable:
        inner = "".join(_figure(d, extremes.get(d.column)) for d in stable)
        figures.append(f"<details><summary>{len(stable)} stable columns</summary>{inner}</details>")
    legend = (
        "<p class='muted'><svg width='12' height='12'><rect width='12' height='12' "
        "fill='#9aa5b1'/></svg> reference &nbsp; <svg width='12' height='12'><rect "
        "width='12' height='12' fill='#2f6fd6'/></svg> current</p>"
    )
    return legend + "".join(figures)


def _figure(drift: DriftResult, extremes: tuple[Any, Any] | None) -> str:
    caption = f"{drift.column}: {'; '.join(drift.reasons) or 'no drift'}"
    svg = _numeric_svg(drift.bins, extremes) if drift.kind == "numeric" else _bars_svg(drift.bins)
    return f"<figure><figcaption>{escape(caption)}</figcaption>{svg}</figure>"


def _numeric_svg(bins: list[DriftBin], extremes: tuple[Any, Any] | None) -> str:
    """A density histogram on the value axis: bar area is the share of values in the bin."""
    finite = [b for b in bins for v in (b.lower, b.upper) if v is not None]
    if not finite:
        return _bars_svg(bins)
    edges = [v for b in bins for v in (b.lower, b.upper) if v is not None]
    low, high = min(edges), max(edges)
    if extremes and isinstance(extremes[0], int | float) and isinstance(extremes[1], int | float):
        low, high = min(low, extremes[0]), max(high, extremes[1])
    span = (high - low) or 1.0
    low, high = low - span * 0.02, high + span * 0.02
    spans = [
        (b.lower if b.lower is not None else low, b.upper if b.upper is not None else high)
        for b in bins
    ]
    widths = [max(u - lo, span / 500) for lo, u in spans]
    tallest = max(max(b.reference, b.current) / w for b, w in zip(bins, widths, strict=True)) or 1.0

    def x(value: float) -> float:
        return _PAD + (value - low) / (high - low) * (_WIDTH - 2 * _PAD)

    shapes = []
    for (lo, _), width, b in zip(spans, widths, bins, strict=True):
        for share, colour, opacity in ((b.reference, "#9aa5b1", 0.9), (b.current, "#2f6fd6", 0.55)):
            height = share / width / tallest * (_HEIGHT - 2 * _PAD)
            shapes.append(
                f"<rect x='{x(lo):.1f}' y='{_HEIGHT - _PAD - height:.1f}' "
                f"width='{max(x(lo + width) - x(lo), 0.5):.1f}' height='{height:.1f}' "
                f"fill='{colour}' fill-opacity='{opacity}'><title>{escape(b.label)}: "
                f"reference {b.reference:.2%}, current {b.current:.2%}</title></rect>"
            )
    ticks = [low + (high - low) * i / 4 for i in range(5)]
    labels = "".join(
        f"<text x='{x(t):.1f}' y='{_HEIGHT - 8}' font-size='11' text-anchor='middle'>{t:.4g}</text>"
        for t in ticks
    )
    return _svg("".join(shapes) + labels)


def _bars_svg(bins: list[DriftBin]) -> str:
    """Side-by-side bars of each category's share in the reference and now."""
    if not bins:
        return ""
    slot = (_WIDTH - 2 * _PAD) / len(bins)
    tallest = max(max(b.reference, b.current) for b in bins) or 1.0
    shapes = []
    for i, b in enumerate(bins):
        left = _PAD + i * slot
        for j, (share, colour) in enumerate(((b.reference, "#9aa5b1"), (b.current, "#2f6fd6"))):
            height = share / tallest * (_HEIGHT - 2 * _PAD)
            shapes.append(
                f"<rect x='{left + slot * (0.1 + 0.4 * j):.1f}' y='{_HEIGHT - _PAD - height:.1f}' "
                f"width='{slot * 0.4:.1f}' height='{height:.1f}' fill='{colour}'>"
                f"<title>{escape(b.label)}: {share:.2%}</title></rect>"
            )
        shapes.append(
            f"<text x='{left + slot / 2:.1f}' y='{_HEIGHT - 8}' font-size='11' "
            f"text-anchor='middle'>{escape(b.label[:12])}</text>"
        )
    return _svg("".join(shapes))


def _svg(body: str) -> str:
    axis = (
        f"<line x1='{_PAD}' y1='{_HEIGHT - _PAD}' x2='{_WIDTH - _PAD}' "
        f"y2='{_HEIGHT - _PAD}' stroke='#66707c'/>"
    )
    return (
        f"<svg width='{_WIDTH}' height='{_HEIGHT}' "
        f"viewBox='0 0 {_WIDTH} {_HEIGHT}' role='img'>{axis}{body}</svg>"
    )


def _json(value: Any) -> str:
    return escape(json.dumps(value, default=str)) if value is not None else ""


def _text(value: Any) -> str:
    return "" if value is None else str(value)
