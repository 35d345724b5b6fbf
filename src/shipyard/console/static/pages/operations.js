// Operations: monitors (runs, latest result), alarms (state, history), pipelines (graph
// and runs) and cost.

import { get, seg } from "../api.js";
import { barChart, dag, lineChart, pairedBars } from "../charts.js";
import { badge, empty, facts, fmtNumber, fmtTime, h, link, route, section, shortId, table } from "../dom.js";
import { page, part, setQuery } from "../router.js";

page("monitors", "list monitors", async ({ query }) => {
  const monitors = await get("/monitors", { endpoint: query.endpoint });
  return [
    h("h1", {}, query.endpoint ? `Monitors of ${query.endpoint}` : "Monitors"),
    table(
      [
        { key: "name", label: "Name", render: (m) => link(route("monitors", m.name), m.name) },
        { key: "endpoint", label: "Endpoint", render: (m) => link(route("endpoints", m.endpoint), m.endpoint) },
        { key: "kinds", label: "Checks", sortable: false, render: (m) => (m.kinds || []).join(", ") },
        { key: "schedule_seconds", label: "Every (s)", numeric: true },
        { key: "runs", label: "Runs", numeric: true },
        { key: "last", label: "Last run", value: (m) => m.last_run?.created_at, render: (m) => (m.last_run ? h("span", {}, badge(m.last_run.status), " ", fmtTime(m.last_run.created_at)) : "") },
        { key: "enabled", label: "Enabled", render: (m) => (m.enabled ? "yes" : "no") },
      ],
      monitors.slice(0, 500),
      { rowHref: (m) => route("monitors", m.name), empty: "No monitors." },
    ),
  ];
});

/** One monitor run's result: per variant, the drift verdict and each feature's test. */
function monitorResult(result) {
  const variants = result.variants || [];
  if (!variants.length) return empty("No served variant in this window.");
  return h("div", {},
    h("p", { class: "muted" }, `Window ${fmtTime(result.window_start)} → ${fmtTime(result.window_end)}. `, Object.values(result.methods || {}).join("; ")),
    variants.map((variant) => {
      const features = [...(variant.features || []), ...(variant.prediction ? [variant.prediction] : [])];
      const drifted = features.filter((f) => f.drifted && (f.bins || []).length).slice(0, 8);
      return h("article", { class: "variant-result" },
        h("h3", {}, `Variant ${variant.variant} (${variant.model})`, " ",
          variant.dataset_drift === null || variant.dataset_drift === undefined ? "" : badge(variant.dataset_drift ? "drifted" : "stable", variant.dataset_drift ? "failed" : "passed")),
        facts([
          ["Baseline", variant.baseline],
          ["Requests / rows", `${fmtNumber(variant.requests)} / ${fmtNumber(variant.rows)}`],
          ["Drifted features", `${fmtNumber((variant.drift_share ?? 0) * 100, 3)}% (threshold ${fmtNumber((variant.drift_share_threshold ?? 0) * 100, 3)}%)`],
          ["Missing share", fmtNumber(variant.missing_share)],
          ["Schema violations", fmtNumber(variant.schema_violations)],
          ["Quality", variant.quality ? JSON.stringify(variant.quality) : ""],
          ["Notes", (variant.notes || []).join("; ")],
        ]),
        drifted.length
          ? h("div", {},
              h("p", { class: "muted" }, "Drifted features: reference (first bar) against this window (second bar), share of rows per bin."),
              h("div", { class: "profile-grid" }, drifted.map((f) => h("div", { class: "profile-card" }, h("h3", {}, f.feature), pairedBars(f.bins, { title: `Reference and current distribution of ${f.feature}` })))))
          : null,
        table(
          [
            { key: "feature", label: "Feature" },
            { key: "kind", label: "Kind" },
            { key: "rule", label: "Test" },
            { key: "score", label: "Score", numeric: true },
            { key: "drifted", label: "Verdict", value: (f) => (f.drifted ? 1 : 0), render: (f) => badge(f.drifted ? "drifted" : "stable", f.drifted ? "failed" : "passed") },
            { key: "missing_share", label: "Missing", numeric: true },
          ],
          features,
          { sort: { key: "drifted", desc: true } },
        ));
    }));
}

page("monitors/:name", "view this monitor", async ({ params }) => {
  const monitor = await get(`/monitors/${seg(params.name)}`);
  const runs = await get(`/monitors/${seg(params.name)}/runs`, { limit: 50 });
  const latest = runs.length
    ? await part("read this monitor's latest result", async () => monitorResult(await get(`/monitors/${seg(params.name)}/result`)))
    : empty("Not run yet.");
  const numeric = runs.filter((r) => typeof r.summary?.drift_share === "number" || typeof r.requests === "number").reverse();
  return [
    h("h1", {}, `Monitor ${monitor.name}`),
    facts([
      ["Endpoint", link(route("endpoints", monitor.endpoint), monitor.endpoint)],
      ["Baseline", monitor.baseline || ""],
      ["Checks", (monitor.kinds || []).join(", ")],
      ["Schedule", `every ${monitor.schedule_seconds} s`],
      ["Created", `${fmtTime(monitor.created_at)} by ${monitor.created_by}`],
    ]),
    numeric.length > 1 ? section("Requests per run", lineChart([{ name: "requests", xs: numeric.map((r) => r.number), ys: numeric.map((r) => r.requests) }], { title: "Requests per monitor run", xLabel: "run" })) : null,
    section(
      "Runs",
      table(
        [
          { key: "number", label: "Run", numeric: true },
          { key: "status", label: "Status", render: (r) => badge(r.status) },
          { key: "trigger", label: "Trigger" },
          { key: "requests", label: "Requests", numeric: true },
          { key: "window", label: "Window", sortable: false, render: (r) => `${fmtTime(r.window_start)} → ${fmtTime(r.window_end)}` },
          { key: "message", label: "Message" },
        ],
        runs,
        { sort: { key: "number", desc: true }, empty: "Not run yet." },
      ),
    ),
    section("Latest result", latest),
  ];
});

page("alarms", "list alarms", async ({ query }) => {
  const alarms = await get("/alarms", { state: query.state, source: query.source });
  return [
    h("h1", {}, "Alarms"),
    h("div", { class: "toolbar" }, h("label", { for: "state-pick" }, "State"),
      h("select", { id: "state-pick", onchange: (e) => setQuery({ ...query, state: e.target.value }) },
        ["", "OK", "ALARM", "INSUFFICIENT_DATA"].map((v) => h("option", { value: v, selected: (query.state || "") === v }, v || "any")))),
    table(
      [
        { key: "name", label: "Name", render: (a) => link(route("alarms", a.name), a.name) },
        { key: "state", label: "State", render: (a) => badge(a.state) },
        { key: "resource", label: "Resource" },
        { key: "rule", label: "Rule", sortable: false, render: (a) => `${a.metric} ${a.comparison} ${fmtNumber(a.threshold)}` },
        { key: "state_reason", label: "Why" },
        { key: "state_updated_at", label: "Since", render: (a) => fmtTime(a.state_updated_at) },
      ],
      alarms.slice(0, 500),
      { rowHref: (a) => route("alarms", a.name), empty: "No alarms." },
    ),
  ];
});

page("alarms/:name", "view this alarm", async ({ params }) => {
  const alarm = await get(`/alarms/${seg(params.name)}`);
  const history = await get(`/alarms/${seg(params.name)}/history`, { limit: 100 });
  return [
    h("h1", {}, `Alarm ${alarm.name}`, " ", badge(alarm.state)),
    facts([
      ["Resource", alarm.resource],
      ["Rule", `${alarm.metric} ${alarm.comparison} ${fmtNumber(alarm.threshold)} over ${alarm.datapoints_to_alarm} of ${alarm.evaluation_periods} periods of ${alarm.period_seconds} s`],
      ["Source", alarm.source],
      ["Missing data", alarm.treat_missing],
      ["Actions", (alarm.actions || []).map((a) => `${a.kind} ${a.pipeline || a.endpoint || ""} on ${(a.on || []).join("/")}`).join("; ")],
      ["State reason", alarm.state_reason],
    ]),
    section("History", table(
      [
        { key: "time", label: "Time", render: (e) => fmtTime(e.time) },
        { key: "kind", label: "Kind" },
        { key: "change", label: "Change", sortable: false, render: (e) => (e.old_state || e.new_state ? `${e.old_state || ""} → ${e.new_state || ""}` : "") },
        { key: "reason", label: "Reason" },
      ],
      history,
      { empty: "No history." },
    )),
  ];
});

page("pipelines", "list pipelines", async () => {
  const pipelines = await get("/pipelines");
  return [
    h("h1", {}, "Pipelines"),
    table(
      [
        { key: "name", label: "Name", render: (p) => link(route("pipelines", p.name), p.name) },
        { key: "version", label: "Version", numeric: true },
        { key: "steps", label: "Steps", value: (p) => (p.steps || []).length, render: (p) => (p.steps || []).length },
        { key: "schedule", label: "Schedule" },
        { key: "description", label: "Description" },
        { key: "updated_at", label: "Updated", render: (p) => fmtTime(p.updated_at) },
      ],
      pipelines.slice(0, 500),
      { rowHref: (p) => route("pipelines", p.name), empty: "No pipelines." },
    ),
  ];
});

function stepGraph(steps, title) {
  const nodes = steps.map((step) => ({ id: step.name, kind: step.kind, label: step.name, status: step.status }));
  const edges = steps.flatMap((step) => (step.depends_on || []).map((from) => ({ from, to: step.name })));
  return dag(nodes, edges, { title });
}

page("pipelines/:name", "view this pipeline", async ({ params }) => {
  const pipeline = await get(`/pipelines/${seg(params.name)}`);
  const runs = await part("list this pipeline's runs", async () => table(
    [
      { key: "id", label: "Run", render: (r) => link(route("pipeline-runs", r.id), shortId(r.id)) },
      { key: "status", label: "Status", render: (r) => badge(r.status) },
      { key: "trigger", label: "Trigger", render: (r) => (typeof r.trigger === "string" ? r.trigger : JSON.stringify(r.trigger || "")) },
      { key: "message", label: "Message" },
      { key: "created_at", label: "Started", render: (r) => fmtTime(r.created_at) },
    ],
    await get(`/pipelines/${seg(params.name)}/runs`, { limit: 50 }),
    { rowHref: (r) => route("pipeline-runs", r.id), empty: "Never run." },
  ));
  return [
    h("h1", {}, `Pipeline ${pipeline.name}`, " ", h("span", { class: "muted" }, `v${pipeline.version}`)),
    facts([
      ["Description", pipeline.description],
      ["Schedule", pipeline.schedule || ""],
      ["Parameters", Object.keys(pipeline.parameters || {}).length ? JSON.stringify(pipeline.parameters) : ""],
      ["Updated", `${fmtTime(pipeline.updated_at)} by ${pipeline.created_by}`],
    ]),
    section("Graph", stepGraph(pipeline.steps || [], `Steps of ${pipeline.name}`)),
    section("Runs", runs),
  ];
});

page("pipeline-runs/:id", "view this pipeline run", async ({ params }) => {
  const run = await get(`/pipeline-runs/${seg(params.id)}`);
  return [
    h("h1", {}, `Pipeline run ${shortId(run.id)}`, " ", badge(run.status)),
    facts([
      ["Pipeline", link(route("pipelines", run.pipeline), `${run.pipeline} v${run.pipeline_version}`)],
      ["Message", run.message],
      ["Parameters", JSON.stringify(run.parameters || {})],
      ["Started", fmtTime(run.started_at || run.created_at)],
      ["Ended", fmtTime(run.ended_at)],
    ]),
    section("Graph", stepGraph(run.steps || [], "Steps of this run")),
    section("Steps", table(
      [
        { key: "name", label: "Step" },
        { key: "kind", label: "Kind" },
        { key: "status", label: "Status", render: (s) => badge(s.status) },
        { key: "reused_from", label: "Cached from", render: (s) => (s.reused_from ? shortId(s.reused_from) : "") },
        { key: "message", label: "Message" },
        { key: "started_at", label: "Started", render: (s) => fmtTime(s.started_at) },
      ],
      run.steps || [],
    )),
  ];
});

page("cost", "read the cost report", async ({ query }) => {
  const by = query.by || "resource";
  const since = query.since || "7d";
  const report = await get("/cost", { by, since });
  const currency = report.prices?.currency || "";
  const lines = [...(report.lines || [])].sort((a, b) => b.cost - a.cost);
  return [
    h("h1", {}, "Cost"),
    h("div", { class: "toolbar" },
      h("label", { for: "cost-by" }, "Group by"),
      h("select", { id: "cost-by", onchange: (e) => setQuery({ ...query, by: e.target.value }) },
        ["resource", "principal", "pipeline"].map((v) => h("option", { value: v, selected: v === by }, v))),
      h("label", { for: "cost-since" }, "Since"),
      h("select", { id: "cost-since", onchange: (e) => setQuery({ ...query, since: e.target.value }) },
        ["1d", "7d", "30d", "90d"].map((v) => h("option", { value: v, selected: v === since }, v)))),
    facts([
      ["Period", `${fmtTime(report.since)} → ${fmtTime(report.until)}`],
      ["Total", `${fmtNumber(report.total)} ${currency}`],
      ["Prices", `${report.prices?.cpu_hour} ${currency}/CPU-hour, ${report.prices?.gb_hour} ${currency}/GB-hour`],
      ["Note", report.note],
    ]),
    lines.length ? section("Largest", barChart(lines.slice(0, 12).map((l) => ({ label: l.key.length > 26 ? `…${l.key.slice(-25)}` : l.key, value: l.cost })), { title: "Cost by group", unit: ` ${currency}` })) : null,
    section("Lines", table(
      [
        { key: "key", label: by },
        { key: "resources", label: "Resources", numeric: true },
        { key: "wall_seconds", label: "Wall s", numeric: true },
        { key: "cpu_seconds", label: "CPU s", numeric: true },
        { key: "gb_hours", label: "GB-hours", numeric: true },
        { key: "cost", label: `Cost (${currency})`, numeric: true },
      ],
      lines.slice(0, 500),
      { sort: { key: "cost", desc: true }, empty: "No usage in this period." },
    )),
  ];
});
