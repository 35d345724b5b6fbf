// Experiments, runs (server-side search, filter, sort, pages), one run with its metric
// charts (bucketed on the server), and runs side by side.

import { get, post, seg, unrouted } from "../api.js";
import { lineChart } from "../charts.js";
import {
  badge,
  empty,
  facts,
  filterBox,
  fmtNumber,
  fmtTime,
  h,
  link,
  route,
  section,
  shortId,
  table,
} from "../dom.js";
import { page, part, setQuery, byName, listHeading } from "../router.js";
import { pagedTable } from "../paging.js";

/** Points the server is asked for per chart line (it downsamples longer histories). */
export const MAX_POINTS = 400;

page("experiments", "list experiments", async ({ query }) => {
  return [
    ...listHeading("Experiments", query),
    await pagedTable(
      "/experiments",
      byName(query),
      [
        {
          key: "name",
          label: "Name",
          render: (e) => link(`#/runs?experiment=${encodeURIComponent(e.name)}`, e.name),
        },
        { key: "runs", label: "Runs", numeric: true },
        { key: "created_at", label: "Created", render: (e) => fmtTime(e.created_at) },
      ],
      {
        sort: { key: "created_at", desc: true },
        rowHref: (e) => `#/runs?experiment=${encodeURIComponent(e.name)}`,
      },
    ),
  ];
});

function metricKeys(runs, field, cap) {
  const seen = new Map();
  for (const run of runs)
    for (const key of Object.keys(run[field] || {})) seen.set(key, (seen.get(key) || 0) + 1);
  return [...seen.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, cap)
    .map(([k]) => k);
}

const orderKey = (column) =>
  column.startsWith("metrics.") || column.startsWith("params.") ? column : `attributes.${column}`;

page("runs", "search runs", async ({ query }) => {
  const size = Math.min(Number(query.size || 50), 500);
  const body = {
    experiments: query.experiment ? [query.experiment] : null,
    filter: query.filter || "",
    order_by: query.order ? [query.order] : ["attributes.start_time DESC"],
    max_results: size,
    page_token: query.token || null,
    view: query.view || "active",
  };
  const result = await post("/runs/search", body);
  const runs = result.runs || [];
  const metrics = metricKeys(runs, "metrics", 6);
  const params = metricKeys(runs, "params", 4);
  const [orderColumn, orderDir] = (query.order || "attributes.start_time DESC").split(" ");
  const selected = new Set((query.compare || "").split(",").filter(Boolean));
  const compareButton = h(
    "button",
    { type: "button", disabled: selected.size < 2 },
    "Compare selected",
  );
  compareButton.addEventListener("click", () => {
    location.hash = `#/compare?runs=${[...selected].map(encodeURIComponent).join(",")}`;
  });
  const sortColumn = (key) =>
    key.startsWith("m:")
      ? `metrics.${key.slice(2)}`
      : key.startsWith("p:")
        ? `params.${key.slice(2)}`
        : key;
  const columns = [
    {
      key: "pick",
      label: "Pick",
      sortable: false,
      render: (run) => {
        const box = h("input", {
          type: "checkbox",
          "aria-label": `Select run ${run.name}`,
          checked: selected.has(run.id),
        });
        box.addEventListener("change", () => {
          if (box.checked) selected.add(run.id);
          else selected.delete(run.id);
          compareButton.disabled = selected.size < 2;
        });
        return box;
      },
    },
    {
      key: "name",
      label: "Run",
      render: (run) => link(route("runs", run.id), run.name || shortId(run.id)),
    },
    { key: "experiment", label: "Experiment", sortable: false },
    { key: "status", label: "Status", render: (run) => badge(run.status) },
    { key: "start_time", label: "Started", render: (run) => fmtTime(run.start_time) },
    ...metrics.map((m) => ({
      key: `m:${m}`,
      label: m,
      numeric: true,
      render: (run) => fmtNumber(run.metrics[m]),
    })),
    ...params.map((p) => ({
      key: `p:${p}`,
      label: `${p} (param)`,
      render: (run) => run.params[p] ?? "",
    })),
  ];
  const currentSort = (() => {
    const col = orderColumn.replace(/^attributes\./, "");
    if (col.startsWith("metrics.")) return `m:${col.slice(8)}`;
    if (col.startsWith("params.")) return `p:${col.slice(7)}`;
    return col;
  })();
  const next = result.next_page_token;
  return [
    h("h1", {}, query.experiment ? `Runs in ${query.experiment}` : "Runs"),
    h(
      "form",
      { class: "toolbar", onsubmit: (e) => e.preventDefault() },
      filterBox(
        "Experiment",
        query.experiment,
        (experiment) => setQuery({ ...query, experiment, token: "" }),
        "all",
      ),
      filterBox(
        "Filter",
        query.filter,
        (filter) => setQuery({ ...query, filter, token: "" }),
        "metrics.roc_auc > 0.9 and params.num_leaves = '7'",
      ),
      h("label", { for: "view-pick" }, "Show"),
      h(
        "select",
        {
          id: "view-pick",
          onchange: (e) => setQuery({ ...query, view: e.target.value, token: "" }),
        },
        ["active", "deleted", "all"].map((v) =>
          h("option", { value: v, selected: (query.view || "active") === v }, v),
        ),
      ),
      compareButton,
    ),
    table(columns, runs, {
      sort: { key: currentSort, desc: orderDir === "DESC" },
      onSort: (key, desc) =>
        setQuery({
          ...query,
          order: `${orderKey(sortColumn(key))} ${desc ? "DESC" : "ASC"}`,
          token: "",
        }),
      empty: "No runs match.",
      caption: `${runs.length} runs on this page, sorted on the server`,
    }),
    h(
      "p",
      { class: "pager" },
      query.token
        ? link(`#/runs?${new URLSearchParams({ ...query, token: "" })}`, "First page")
        : null,
      " ",
      next
        ? link(`#/runs?${new URLSearchParams({ ...query, token: next })}`, "Next page", {
            rel: "next",
          })
        : null,
    ),
  ];
});

let serverCharts = true;

/** Keep at most ``max`` points: each bucket's first, lowest and highest point (spikes stay). */
export function downsample(steps, values, max) {
  if (steps.length <= max) return { steps, values };
  const buckets = Math.max(1, Math.floor(max / 3));
  const size = steps.length / buckets;
  const keep = new Set();
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor(b * size);
    const end = Math.min(steps.length, Math.floor((b + 1) * size));
    let lo = start;
    let hi = start;
    for (let i = start; i < end; i++) {
      if (values[i] < values[lo]) lo = i;
      if (values[i] > values[hi]) hi = i;
    }
    keep.add(start).add(lo).add(hi);
  }
  keep.add(steps.length - 1);
  const order = [...keep].sort((a, b) => a - b);
  return { steps: order.map((i) => steps[i]), values: order.map((i) => values[i]) };
}

/**
 * One metric of one run as a chart line of at most MAX_POINTS points: the server's
 * bucketed chart (mean line, min/max band, tracking.metric_chart). A server without that
 * operation answers 404; then the history is read (tracking.metric_series) and thinned here.
 */
async function metricLine(runId, key) {
  if (serverCharts) {
    try {
      const chart = await get(`/runs/${seg(runId)}/metrics/${seg(key)}/chart`, {
        max_points: MAX_POINTS,
      });
      const xs = chart.step_first.map((first, i) => (first + chart.step_last[i]) / 2);
      return { xs, ys: chart.mean, lo: chart.min, hi: chart.max, total: chart.total_points };
    } catch (error) {
      if (!unrouted(error)) throw error;
      serverCharts = false;
    }
  }
  const [series] = await get(`/runs/${seg(runId)}/metrics`, { key });
  if (!series) return { xs: [], ys: [], total: 0 };
  const thin = downsample(series.steps, series.values, MAX_POINTS);
  return { xs: thin.steps, ys: thin.values, total: series.steps.length };
}

/** Chart lines for ``keys`` of ``runs``: one chart per key, one line per run. */
async function metricCharts(runs, keys) {
  const wanted = keys.slice(0, 12);
  const lines = await Promise.all(
    wanted.map((key) =>
      Promise.all(runs.map((run) => (key in (run.metrics || {}) ? metricLine(run.id, key) : null))),
    ),
  );
  const charts = [];
  wanted.forEach((key, k) => {
    const series = [];
    runs.forEach((run, i) => {
      const one = lines[k][i];
      if (one && one.xs.length) series.push({ name: run.name || shortId(run.id), ...one });
    });
    if (!series.length || series.every((one) => one.total <= 1)) return;
    const total = series.reduce((sum, one) => sum + one.total, 0);
    charts.push(
      h(
        "div",
        { class: "chart-cell" },
        h("h3", {}, key, " ", h("span", { class: "muted" }, `${fmtNumber(total)} points`)),
        lineChart(series, { title: `${key} by step`, yLabel: key }),
      ),
    );
  });
  return charts.length
    ? h("div", { class: "chart-grid" }, charts)
    : empty("No metric has more than one step.");
}

page("runs/:id", "view this run", async ({ params }) => {
  const run = await get(`/runs/${seg(params.id)}`);
  const keys = Object.keys(run.metrics || {}).sort();
  const charts = await part("read this run's metric history", () => metricCharts([run], keys));
  const tags = Object.entries(run.tags || {}).map(([key, value]) => ({ key, value }));
  return [
    h("h1", {}, run.name || run.id, " ", badge(run.status)),
    facts([
      ["Run id", h("code", {}, run.id)],
      [
        "Experiment",
        link(`#/runs?experiment=${encodeURIComponent(run.experiment)}`, run.experiment),
      ],
      [
        "Parent",
        run.parent_run_id ? link(route("runs", run.parent_run_id), shortId(run.parent_run_id)) : "",
      ],
      ["Started", fmtTime(run.start_time)],
      ["Ended", fmtTime(run.end_time)],
      ["By", run.created_by],
      [
        "Inputs",
        (run.inputs || []).length
          ? h(
              "span",
              {},
              (run.inputs || []).map((ref) => [
                link(
                  route("datasets", ref.split("@")[0]) +
                    `?version=${encodeURIComponent(ref.split("@")[1] || "")}`,
                  ref,
                ),
                " ",
              ]),
            )
          : "",
      ],
      ["Deleted", run.deleted ? "yes" : ""],
    ]),
    h(
      "div",
      { class: "columns" },
      section(
        "Metrics (latest)",
        table(
          [
            { key: "key", label: "Metric" },
            { key: "value", label: "Value", numeric: true },
          ],
          keys.map((key) => ({ key, value: run.metrics[key] })),
        ),
      ),
      section(
        "Parameters",
        table(
          [
            { key: "key", label: "Parameter" },
            { key: "value", label: "Value" },
          ],
          Object.entries(run.params || {}).map(([key, value]) => ({ key, value })),
        ),
      ),
    ),
    section("Metric history", charts),
    section(
      "Tags",
      table(
        [
          { key: "key", label: "Tag" },
          { key: "value", label: "Value" },
        ],
        tags,
        { empty: "No tags." },
      ),
    ),
    section(
      "Artifacts",
      table(
        [
          { key: "path", label: "Path" },
          { key: "size_bytes", label: "Size", numeric: true },
        ],
        run.artifacts || [],
        { empty: "No artifacts." },
      ),
    ),
  ];
});

page("compare", "compare runs", async ({ query }) => {
  // One metric's history at a time (chosen below): one chart call per run, however many
  // metrics the runs hold.
  const ids = (query.runs || "").split(",").filter(Boolean).slice(0, 10);
  if (ids.length < 2)
    return [h("h1", {}, "Compare runs"), empty("Pick two or more runs on the Runs page.")];
  const runs = await Promise.all(ids.map((id) => get(`/runs/${seg(id)}`)));
  const metricNames = [...new Set(runs.flatMap((r) => Object.keys(r.metrics || {})))].sort();
  const paramNames = [...new Set(runs.flatMap((r) => Object.keys(r.params || {})))].sort();
  const label = (run) => run.name || shortId(run.id);
  const side = (names, field, numeric) => {
    const rows = names.map((name) => {
      const values = runs.map((r) => r[field]?.[name]);
      const differs = new Set(values.map(String)).size > 1;
      return { name, values, differs };
    });
    return table(
      [
        {
          key: "name",
          label: field === "metrics" ? "Metric" : "Parameter",
          render: (r) => h("span", { class: r.differs ? "differs" : "" }, r.name),
        },
        ...runs.map((run, i) => ({
          key: `r${i}`,
          label: label(run),
          numeric,
          value: (r) => r.values[i],
          render: (r) => (numeric ? fmtNumber(r.values[i]) : (r.values[i] ?? "")),
        })),
      ],
      rows,
    );
  };
  const shown = metricNames.includes(query.metric) ? query.metric : metricNames[0];
  const charts = shown
    ? await part("read these runs' metric history", () => metricCharts(runs, [shown]))
    : empty("No metrics.");
  const picker = h(
    "div",
    { class: "toolbar" },
    h("label", { for: "metric-pick" }, "Metric"),
    h(
      "select",
      { id: "metric-pick", onchange: (e) => setQuery({ ...query, metric: e.target.value }) },
      metricNames.map((m) => h("option", { value: m, selected: m === shown }, m)),
    ),
  );
  return [
    h("h1", {}, `Compare ${runs.length} runs`),
    h(
      "p",
      {},
      runs.map((run) => [link(route("runs", run.id), label(run)), " "]),
    ),
    section("Metrics", side(metricNames, "metrics", true)),
    section("Parameters (differing names marked)", side(paramNames, "params", false)),
    section("Metric history", picker, charts),
  ];
});
