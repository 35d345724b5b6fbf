// SVG charts drawn from server figures: line charts, histograms, bars, a layered DAG and
// parallel coordinates. Colours come from app.css classes (series-0 ... series-7).

import { fmtNumber, h, s } from "./dom.js";

const W = 640;
const H = 240;
const PAD = { left: 56, right: 16, top: 12, bottom: 32 };

function ticks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((v) => v >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

function extent(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (typeof v !== "number" || !Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  return [lo, hi];
}

function frame(title, width = W, height = H) {
  return s(
    "svg",
    {
      viewBox: `0 0 ${width} ${height}`,
      class: "chart",
      role: "img",
      "aria-label": title,
      preserveAspectRatio: "xMidYMid meet",
    },
    s("title", {}, title),
  );
}

function axes(svg, xs, ys, x, y, xLabel, yLabel, width = W, height = H) {
  const g = s("g", { class: "axis" });
  for (const t of ticks(ys[0], ys[1])) {
    g.append(
      s("line", { x1: PAD.left, x2: width - PAD.right, y1: y(t), y2: y(t), class: "grid" }),
      s("text", { x: PAD.left - 6, y: y(t) + 4, "text-anchor": "end" }, fmtNumber(t, 3)),
    );
  }
  for (const t of ticks(xs[0], xs[1], 6)) {
    g.append(
      s("text", { x: x(t), y: height - PAD.bottom + 16, "text-anchor": "middle" }, fmtNumber(t, 3)),
    );
  }
  g.append(
    s("line", {
      x1: PAD.left,
      x2: width - PAD.right,
      y1: height - PAD.bottom,
      y2: height - PAD.bottom,
      class: "base",
    }),
    s(
      "text",
      { x: width - PAD.right, y: height - 4, "text-anchor": "end", class: "label" },
      xLabel || "",
    ),
    s("text", { x: 4, y: PAD.top + 2, class: "label" }, yLabel || ""),
  );
  svg.append(g);
}

function legend(names) {
  return h(
    "ul",
    { class: "legend" },
    names.map((name, i) => h("li", {}, h("span", { class: `swatch series-${i % 8}` }), name)),
  );
}

/** Lines: series = [{name, xs, ys, lo?, hi?}] (already downsampled by the server); lo/hi
 * draw a band around the line (each bucket's lowest and highest value). */
export function lineChart(
  series,
  { title = "chart", xLabel = "step", yLabel = "", zero = false } = {},
) {
  const svg = frame(title);
  const xs = extent(series.flatMap((one) => one.xs));
  const values = series.flatMap((one) => [...one.ys, ...(one.lo || []), ...(one.hi || [])]);
  let ys = extent(values);
  if (zero) {
    // Counts, latencies, rates: the axis starts at zero, so one point is not a spike.
    const [lo, hi] = extent(values.filter((v) => Number.isFinite(v)).concat([0]));
    ys = [lo, hi > lo ? hi : lo + 1];
  }
  const x = (v) => PAD.left + ((v - xs[0]) / (xs[1] - xs[0])) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - ((v - ys[0]) / (ys[1] - ys[0])) * (H - PAD.top - PAD.bottom);
  axes(svg, xs, ys, x, y, xLabel, yLabel);
  series.forEach((one, i) => {
    if (one.lo && one.hi && one.lo.some((v, j) => v !== one.hi[j])) {
      const upper = one.xs.map((xv, j) => `${x(xv).toFixed(1)},${y(one.hi[j]).toFixed(1)}`);
      const lower = one.xs
        .map((xv, j) => `${x(xv).toFixed(1)},${y(one.lo[j]).toFixed(1)}`)
        .reverse();
      svg.append(
        s(
          "polygon",
          { points: [...upper, ...lower].join(" "), class: `band series-${i % 8}` },
          s("title", {}, `${one.name}: lowest to highest per bucket`),
        ),
      );
    }
    const points = [];
    one.xs.forEach((xv, j) => {
      const yv = one.ys[j];
      if (Number.isFinite(yv)) points.push(`${x(xv).toFixed(1)},${y(yv).toFixed(1)}`);
    });
    if (points.length === 1) {
      const [cx, cy] = points[0].split(",");
      svg.append(
        s("circle", { cx, cy, r: 3, class: `dot series-${i % 8}` }, s("title", {}, `${one.name}`)),
      );
    } else {
      svg.append(
        s(
          "polyline",
          { points: points.join(" "), class: `line series-${i % 8}` },
          s("title", {}, one.name),
        ),
      );
    }
  });
  return h(
    "figure",
    { class: "chart-box" },
    svg,
    series.length > 1 ? legend(series.map((o) => o.name)) : null,
  );
}

/** Histogram: bins = [{lo, hi, density, label}] (variable widths allowed). */
export function histogram(bins, { title = "histogram", xLabel = "", small = false } = {}) {
  const width = small ? 280 : W;
  const height = small ? 120 : H;
  const svg = frame(title, width, height);
  const pad = small ? { left: 8, right: 8, top: 6, bottom: 20 } : PAD;
  const lo = Math.min(...bins.map((b) => b.lo));
  const hi = Math.max(...bins.map((b) => b.hi));
  const top = Math.max(...bins.map((b) => b.density)) || 1;
  const span = hi - lo || 1;
  const x = (v) => pad.left + ((v - lo) / span) * (width - pad.left - pad.right);
  const y = (v) => height - pad.bottom - (v / top) * (height - pad.top - pad.bottom);
  for (const bin of bins) {
    const x0 = x(bin.lo);
    const x1 = Math.max(x(bin.hi), x0 + 1);
    svg.append(
      s(
        "rect",
        {
          x: x0,
          y: y(bin.density),
          width: x1 - x0,
          height: height - pad.bottom - y(bin.density),
          class: "bar",
        },
        s("title", {}, bin.label || `${fmtNumber(bin.lo)} – ${fmtNumber(bin.hi)}`),
      ),
    );
  }
  svg.append(
    s("text", { x: pad.left, y: height - 4, class: "tick" }, fmtNumber(lo, 3)),
    s(
      "text",
      { x: width - pad.right, y: height - 4, "text-anchor": "end", class: "tick" },
      fmtNumber(hi, 3),
    ),
  );
  if (xLabel)
    svg.append(
      s("text", { x: width / 2, y: height - 4, "text-anchor": "middle", class: "label" }, xLabel),
    );
  return svg;
}

/** Horizontal bars: items = [{label, value, note}], values share one scale up to max. */
export function barChart(items, { title = "bars", max = null, unit = "" } = {}) {
  const rowH = 26;
  const labelW = 170;
  const width = W;
  const height = items.length * rowH + 8;
  const svg = frame(title, width, height);
  const top = max ?? Math.max(...items.map((i) => i.value), 0) ?? 1;
  items.forEach((item, i) => {
    const y0 = 4 + i * rowH;
    const barW = top > 0 ? (item.value / top) * (width - labelW - 90) : 0;
    svg.append(
      s("text", { x: labelW - 8, y: y0 + 16, "text-anchor": "end" }, item.label),
      s(
        "rect",
        {
          x: labelW,
          y: y0 + 3,
          width: Math.max(barW, 0),
          height: rowH - 8,
          class: `bar series-${i % 8}`,
        },
        s("title", {}, `${item.label}: ${fmtNumber(item.value)}${unit}`),
      ),
      s(
        "text",
        { x: labelW + Math.max(barW, 0) + 6, y: y0 + 16 },
        `${fmtNumber(item.value, 3)}${unit}${item.note ? ` ${item.note}` : ""}`,
      ),
    );
  });
  return svg;
}

/**
 * A left-to-right layered DAG. nodes = [{id, label, kind, href}], edges = [{from, to}].
 * Layers by longest path from a source; order inside a layer by the mean of parents'.
 */
export function dag(nodes, edges, { title = "graph" } = {}) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const parents = new Map(nodes.map((n) => [n.id, []]));
  for (const e of edges) if (parents.has(e.to) && byId.has(e.from)) parents.get(e.to).push(e.from);
  const layer = new Map();
  const visiting = new Set();
  const depth = (id) => {
    if (layer.has(id)) return layer.get(id);
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const d = Math.max(-1, ...parents.get(id).map(depth)) + 1;
    visiting.delete(id);
    layer.set(id, d);
    return d;
  };
  nodes.forEach((n) => depth(n.id));
  const layers = [];
  for (const n of nodes) (layers[layer.get(n.id)] ||= []).push(n.id);
  const pos = new Map();
  layers.forEach((ids, li) => {
    if (li > 0) {
      const score = (id) => {
        const ps = parents.get(id).filter((p) => pos.has(p));
        return ps.length ? ps.reduce((a, p) => a + pos.get(p).row, 0) / ps.length : 0;
      };
      ids.sort((a, b) => score(a) - score(b));
    }
    ids.forEach((id, row) => pos.set(id, { col: li, row }));
  });
  const nodeW = 170;
  const nodeH = 40;
  const gapX = 60;
  const gapY = 18;
  const rows = Math.max(...layers.map((l) => l.length), 1);
  const width = layers.length * (nodeW + gapX) - gapX + 20;
  const height = rows * (nodeH + gapY) - gapY + 20;
  const svg = frame(title, Math.max(width, 200), Math.max(height, 60));
  svg.setAttribute("class", "chart dag");
  const at = (id) => {
    const p = pos.get(id);
    const col = layers[p.col];
    const offset = ((rows - col.length) * (nodeH + gapY)) / 2;
    return { x: 10 + p.col * (nodeW + gapX), y: 10 + offset + p.row * (nodeH + gapY) };
  };
  for (const e of edges) {
    if (!pos.has(e.from) || !pos.has(e.to)) continue;
    const a = at(e.from);
    const b = at(e.to);
    const x1 = a.x + nodeW;
    const y1 = a.y + nodeH / 2;
    const x2 = b.x;
    const y2 = b.y + nodeH / 2;
    const mid = (x1 + x2) / 2;
    svg.append(
      s(
        "path",
        { d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 4},${y2}`, class: "edge" },
        e.label ? s("title", {}, e.label) : null,
      ),
    );
    svg.append(
      s("path", { d: `M${x2 - 8},${y2 - 4} L${x2},${y2} L${x2 - 8},${y2 + 4} Z`, class: "arrow" }),
    );
  }
  for (const n of nodes) {
    const p = at(n.id);
    const label = String(n.label ?? n.id);
    const short = label.length > 24 ? `${label.slice(0, 23)}…` : label;
    const box = s(
      "g",
      { class: ["node", `node-${n.kind || "other"}`, n.current ? "node-current" : ""] },
      s("rect", { x: p.x, y: p.y, width: nodeW, height: nodeH, rx: 5 }),
      s("text", { x: p.x + 8, y: p.y + 15, class: "kind" }, n.kind || ""),
      s("text", { x: p.x + 8, y: p.y + 31 }, short),
      s("title", {}, `${n.kind || ""} ${label}${n.status ? ` (${n.status})` : ""}`),
    );
    if (n.href) {
      const a = s("a", { href: n.href, "aria-label": `${n.kind || ""} ${label}` }, box);
      svg.append(a);
    } else svg.append(box);
  }
  return h("div", { class: "dag-wrap" }, svg);
}

/**
 * Parallel coordinates: dims = [{key, label, categorical}], rows = [{values, score, title}];
 * lines coloured by score (best = darkest).
 */
export function parallelCoordinates(dims, rows, { title = "parallel coordinates" } = {}) {
  const width = Math.max(W, dims.length * 120);
  const height = 280;
  const svg = frame(title, width, height);
  const top = 24;
  const bottom = height - 28;
  const x = (i) => 40 + (i * (width - 80)) / Math.max(dims.length - 1, 1);
  const scales = dims.map((dim) => {
    const values = rows.map((r) => r.values[dim.key]).filter((v) => v !== undefined && v !== null);
    if (dim.categorical || values.some((v) => typeof v !== "number")) {
      const cats = [...new Set(values.map(String))].sort();
      return {
        cats,
        at: (v) =>
          cats.length < 2
            ? (top + bottom) / 2
            : bottom - (cats.indexOf(String(v)) / (cats.length - 1)) * (bottom - top),
      };
    }
    const [lo, hi] = extent(values);
    return { lo, hi, at: (v) => bottom - ((v - lo) / (hi - lo)) * (bottom - top) };
  });
  const scores = rows.map((r) => r.score).filter(Number.isFinite);
  const [slo, shi] = extent(scores);
  rows.forEach((row) => {
    const pts = dims
      .map((dim, i) => {
        const v = row.values[dim.key];
        return v === undefined || v === null
          ? null
          : `${x(i).toFixed(1)},${scales[i].at(v).toFixed(1)}`;
      })
      .filter(Boolean);
    const rank = Number.isFinite(row.score) ? Math.round(((row.score - slo) / (shi - slo)) * 4) : 0;
    svg.append(
      s(
        "polyline",
        { points: pts.join(" "), class: `pc-line pc-${rank}` },
        s("title", {}, row.title || ""),
      ),
    );
  });
  dims.forEach((dim, i) => {
    const scale = scales[i];
    svg.append(
      s("line", { x1: x(i), x2: x(i), y1: top, y2: bottom, class: "pc-axis" }),
      s("text", { x: x(i), y: 14, "text-anchor": "middle", class: "label" }, dim.label),
    );
    if (scale.cats) {
      scale.cats.forEach((c) =>
        svg.append(s("text", { x: x(i) + 4, y: scale.at(c) + 4, class: "tick" }, c)),
      );
    } else {
      svg.append(
        s("text", { x: x(i) + 4, y: top + 4, class: "tick" }, fmtNumber(scale.hi, 3)),
        s("text", { x: x(i) + 4, y: bottom + 14, class: "tick" }, fmtNumber(scale.lo, 3)),
      );
    }
  });
  return svg;
}

/** Two distributions over the same bins: bins = [[label, reference share, current share]]. */
export function pairedBars(bins, { title = "reference and current" } = {}) {
  const width = 280;
  const height = 120;
  const pad = { left: 6, right: 6, top: 6, bottom: 18 };
  const svg = frame(title, width, height);
  const top = Math.max(...bins.flatMap((b) => [b[1], b[2]]), 0) || 1;
  const slot = (width - pad.left - pad.right) / Math.max(bins.length, 1);
  const y = (v) => height - pad.bottom - (v / top) * (height - pad.top - pad.bottom);
  bins.forEach(([label, reference, current], i) => {
    const x0 = pad.left + i * slot;
    const w = Math.max(slot / 2 - 1, 1);
    svg.append(
      s(
        "rect",
        {
          x: x0,
          y: y(reference),
          width: w,
          height: height - pad.bottom - y(reference),
          class: "bar series-0",
        },
        s("title", {}, `${label}: reference ${fmtNumber(reference * 100, 3)}%`),
      ),
      s(
        "rect",
        {
          x: x0 + w,
          y: y(current),
          width: w,
          height: height - pad.bottom - y(current),
          class: "bar series-1",
        },
        s("title", {}, `${label}: current ${fmtNumber(current * 100, 3)}%`),
      ),
    );
  });
  if (bins.length) {
    svg.append(
      s("text", { x: pad.left, y: height - 4, class: "tick" }, String(bins[0][0])),
      s(
        "text",
        { x: width - pad.right, y: height - 4, "text-anchor": "end", class: "tick" },
        String(bins[bins.length - 1][0]),
      ),
    );
  }
  return svg;
}
