"""Metric histories of several runs as one self-contained HTML page of inline SVG charts.

No script, stylesheet or font is fetched: the page opens offline and can be attached
to a review. Long histories are reduced to each pixel column's first, lowest, highest
and last point, so a 100,000-step curve keeps its shape in a few thousand points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from shipyard.schemas.tracking import MetricSeries, RunInfo

_WIDTH, _HEIGHT, _PAD = 720, 260, 48
_COLUMNS = 600  # horizontal resolution of the reduced curves
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2")


def _reduce(steps: Sequence[int], values: Sequence[float]) -> list[tuple[float, float]]:
    """At most four points per pixel column: first, lowest, highest and last."""
    if len(steps) <= 4 * _COLUMNS:
        return list(zip(steps, values, strict=True))
    low, high = steps[0], steps[-1]
    width = (high - low) / _COLUMNS or 1
    kept: list[tuple[float, float]] = []
    bucket: list[tuple[float, float]] = []
    current = None
    for point in zip(steps, values, strict=True):
        column = int((point[0] - low) / width)
        if column != current and bucket:
            kept.extend(_extremes(bucket))
            bucket = []
        current = column
        bucket.append(point)
    kept.extend(_extremes(bucket))
    return kept


def _extremes(bucket: list[tuple[float, float]]) -> list[tuple[float, float]]:
    lowest = min(bucket, key=lambda p: p[1])
    highest = max(bucket, key=lambda p: p[1])
    return sorted({bucket[0], lowest, highest, bucket[-1]})


def _tick(value: float) -> str:
    return f"{value:.4g}"


def _chart(key: str, curves: list[tuple[str, str, list[tuple[float, float]]]]) -> str:
    points = [p for _, _, curve in curves for p in curve]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    if x1 == x0:
        x1 = x0 + 1
    if math.isclose(y1, y0):
        y0, y1 = y0 - 0.5, y1 + 0.5
    inner_w, inner_h = _WIDTH - 2 * _PAD, _HEIGHT - 2 * _PAD

    def place(x: float, y: float) -> str:
        px = _PAD + (x - x0) / (x1 - x0) * inner_w
        py = _HEIGHT - _PAD - (y - y0) / (y1 - y0) * inner_h
        return f"{px:.1f},{py:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}"'
        f' role="img" aria-label="{escape(key)}">',
        f'<rect x="{_PAD}" y="{_PAD}" width="{inner_w}" height="{inner_h}" fill="none"'
        ' stroke="#999"/>',
        f'<text x="{_PAD}" y="{_PAD - 28}" font-weight="bold">{escape(key)}</text>',
        f'<text x="{_PAD - 4}" y="{_PAD + 4}" text-anchor="end">{_tick(y1)}</text>',
        f'<text x="{_PAD - 4}" y="{_HEIGHT - _PAD}" text-anchor="end">{_tick(y0)}</text>',
        f'<text x="{_PAD}" y="{_HEIGHT - _PAD + 16}">{_tick(x0)}</text>',
        f'<text x="{_WIDTH - _PAD}" y="{_HEIGHT - _PAD + 16}" text-anchor="end">{_tick(x1)}</text>',
        f'<text x="{_WIDTH // 2}" y="{_HEIGHT - _PAD + 32}" text-anchor="middle">step</text>',
    ]
    for index, (label, color, curve) in enumerate(curves):
        line = " ".join(place(x, y) for x, y in curve)
        shape = "polyline" if len(curve) > 1 else "circle"
        if shape == "polyline":
            parts.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{line}">'
                f"<title>{escape(label)}</title></polyline>"
            )
        else:
            cx, cy = line.split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{color}"/>')
        legend_x = _PAD + 8 + index * 150
        parts.append(
            f'<text x="{legend_x}" y="{_PAD - 8}" fill="{color}">{escape(label[:22])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def metric_chart_html(runs: list[RunInfo], series: list[dict[str, MetricSeries]]) -> str:
    """One chart per metric key, one line per run that logged it; runs in the given order."""
    labels = [f"{r.name} ({r.id[:8]})" for r in runs]
    keys = sorted({key for by_key in series for key in by_key})
    charts = []
    for key in keys:
        curves = [
            (label, _COLORS[index % len(_COLORS)], _reduce(s.steps, s.values))
            for index, (label, by_key) in enumerate(zip(labels, series, strict=True))
            if (s := by_key.get(key)) is not None and s.steps
        ]
        if curves:
            charts.append(f"<figure>{_chart(key, curves)}</figure>")
    body = "\n".join(charts) or "<p>These runs logged no metrics.</p>"
    title = escape("Runs " + ", ".join(labels))
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        "<style>body{font-family:sans-serif;margin:24px}figure{margin:0 0 16px}"
        "svg{font-size:12px}</style></head>\n"
        f"<body><h1>{title}</h1>\n{body}\n</body></html>\n"
    )
