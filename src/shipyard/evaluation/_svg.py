"""Inline SVG charts for the evaluation report: lines, points and bars, no scripts.

Every label is escaped; coordinates are numbers formatted here. The charts need no
stylesheet or font from anywhere, so the report reads offline and in a sandboxed viewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

WIDTH, HEIGHT, PAD = 420, 320, 48
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2")
Series = tuple[str, np.ndarray, np.ndarray]


def _scale(values: np.ndarray, low: float, high: float, start: float, end: float) -> np.ndarray:
    span = high - low if high > low else 1.0
    return start + (values - low) / span * (end - start)


def _frame(chart_id: str, title: str, x_label: str, y_label: str, body: str, ticks: str) -> str:
    return (
        f'<svg id="{escape(chart_id)}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img">'
        f"<title>{escape(title)}</title>"
        f'<rect x="{PAD}" y="{PAD // 2}" width="{WIDTH - 1.5 * PAD}" '
        f'height="{HEIGHT - 2 * PAD}" fill="none" stroke="#999"/>'
        f"{ticks}{body}"
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 8}" text-anchor="middle">{escape(x_label)}</text>'
        f'<text x="12" y="{HEIGHT / 2}" transform="rotate(-90 12 {HEIGHT / 2})" '
        f'text-anchor="middle">{escape(y_label)}</text></svg>'
    )


def _bounds(arrays: Sequence[np.ndarray]) -> tuple[float, float]:
    finite = [a[np.isfinite(a)] for a in arrays if len(a)]
    values = np.concatenate(finite) if finite else np.zeros(1)
    if not len(values):
        return 0.0, 1.0
    return float(values.min()), float(values.max())


def _ticks(x: tuple[float, float], y: tuple[float, float]) -> str:
    parts = []
    for i in range(5):
        fx, fy = x[0] + (x[1] - x[0]) * i / 4, y[0] + (y[1] - y[0]) * i / 4
        px = PAD + (WIDTH - 1.5 * PAD) * i / 4
        py = HEIGHT - 1.5 * PAD - (HEIGHT - 2 * PAD) * i / 4
        parts.append(
            f'<text x="{px:.1f}" y="{HEIGHT - PAD + 14}" font-size="10" '
            f'text-anchor="middle">{fx:.3g}</text>'
            f'<text x="{PAD - 4}" y="{py + 3:.1f}" font-size="10" text-anchor="end">{fy:.3g}</text>'
        )
    return "".join(parts)


def _project(
    xs: np.ndarray, ys: np.ndarray, x: tuple[float, float], y: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    px = _scale(xs, x[0], x[1], PAD, WIDTH - PAD / 2)
    py = _scale(ys, y[0], y[1], HEIGHT - 1.5 * PAD, PAD / 2)
    return px, py


def line_chart(
    chart_id: str,
    title: str,
    x_label: str,
    y_label: str,
    series: Sequence[Series],
    *,
    unit_square: bool = False,
    diagonal: bool = False,
) -> str:
    """Lines with a legend; ``unit_square`` fixes both axes to [0, 1] (ROC, PR)."""
    x = (0.0, 1.0) if unit_square else _bounds([s[1] for s in series])
    y = (0.0, 1.0) if unit_square else _bounds([s[2] for s in series])
    body = []
    if diagonal:
        (x0, x1), (y0, y1) = _project(np.array([0.0, 1.0]), np.array([0.0, 1.0]), x, y)
        body.append(
            f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" '
            f'stroke="#bbb" stroke-dasharray="4"/>'
        )
    for index, (label, xs, ys) in enumerate(series):
        px, py = _project(xs, ys, x, y)
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))
        colour = COLOURS[index % len(COLOURS)]
        body.append(
            f'<polyline class="curve" fill="none" stroke="{colour}" stroke-width="1.5" '
            f'points="{points}"><title>{escape(label)}</title></polyline>'
            f'<text x="{WIDTH - PAD}" y="{PAD + 14 * index}" font-size="11" fill="{colour}" '
            f'text-anchor="end">{escape(label)}</text>'
        )
    return _frame(chart_id, title, x_label, y_label, "".join(body), _ticks(x, y))


def scatter_chart(
    chart_id: str,
    title: str,
    x_label: str,
    y_label: str,
    xs: np.ndarray,
    ys: np.ndarray,
    *,
    reference: float | None = None,
    identity: bool = False,
) -> str:
    """Points; a horizontal line at ``reference`` or the line y = x when ``identity``."""
    x, y = _bounds([xs]), _bounds([ys])
    if identity:
        x = y = (min(x[0], y[0]), max(x[1], y[1]))
    px, py = _project(xs, ys, x, y)
    body = [
        "".join(
            f'<circle class="point" cx="{a:.1f}" cy="{b:.1f}" r="2" fill="#1f77b4" '
            f'fill-opacity="0.5"/>'
            for a, b in zip(px, py, strict=True)
        )
    ]
    if reference is not None and y[0] <= reference <= y[1]:
        _, (ry,) = _project(np.zeros(1), np.array([reference]), x, y)
        body.append(
            f'<line x1="{PAD}" y1="{ry:.1f}" x2="{WIDTH - PAD / 2}" y2="{ry:.1f}" '
            'stroke="#d62728"/>'
        )
    if identity:
        (x0, x1), (y0, y1) = _project(np.array(x), np.array(y), x, y)
        body.append(
            f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="#d62728"/>'
        )
    return _frame(chart_id, title, x_label, y_label, "".join(body), _ticks(x, y))


def histogram_chart(
    chart_id: str, title: str, x_label: str, values: np.ndarray, bins: int = 30
) -> str:
    """Counts of ``values`` in equal-width bins."""
    finite = values[np.isfinite(values)]
    counts, edges = np.histogram(finite if len(finite) else np.zeros(1), bins=bins)
    x = (float(edges[0]), float(edges[-1]))
    y = (0.0, float(max(counts.max(), 1)))
    left, top = _project(edges[:-1], counts.astype(np.float64), x, y)
    right, bottom = _project(edges[1:], np.zeros(len(counts)), x, y)
    body = "".join(
        f'<rect class="bar" x="{a:.1f}" y="{t:.1f}" width="{max(b - a - 1, 0.5):.1f}" '
        f'height="{max(z - t, 0):.1f}" fill="#1f77b4"/>'
        for a, b, t, z in zip(left, right, top, bottom, strict=True)
    )
    return _frame(chart_id, title, x_label, "rows", body, _ticks(x, y))
