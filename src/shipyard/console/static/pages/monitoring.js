// Monitors (runs, the latest result as drift verdicts) and alarms (state, history).

import { get, seg } from "../api.js";
import { lineChart, pairedBars } from "../charts.js";
import { badge, empty, facts, fmtNumber, fmtTime, h, link, route, section, table } from "../dom.js";
import { page, part, setQuery } from "../router.js";
import { pagedTable } from "../paging.js";

page("monitors", "list monitors", async ({ query }) => {
  return [
    h("h1", {}, query.endpoint ? `Monitors of ${query.endpoint}` : "Monitors"),
    await pagedTable(
      "/monitors",
      { endpoint: query.endpoint },
      [
        { key: "name", label: "Name", render: (m) => link(route("monitors", m.name), m.name) },
        {
          key: "endpoint",
          label: "Endpoint",
          render: (m) => link(route("endpoints", m.endpoint), m.endpoint),
        },
        {
          key: "kinds",
          label: "Checks",
          sortable: false,
          render: (m) => (m.kinds || []).join(", "),
        },
        { key: "schedule_seconds", label: "Every (s)", numeric: true },
        { key: "runs", label: "Runs", numeric: true },
        {
          key: "last",
          label: "Last run",
          value: (m) => m.last_run?.created_at,
          render: (m) =>
            m.last_run
              ? h("span", {}, badge(m.last_run.status), " ", fmtTime(m.last_run.created_at))
              : "",
        },
        { key: "enabled", label: "Enabled", render: (m) => (m.enabled ? "yes" : "no") },
      ],
      { rowHref: (m) => route("monitors", m.name), empty: "No monitors." },
    ),
  ];
});

/** One monitor run's result: per variant, the drift verdict and each feature's test. */
function monitorResult(result) {
  const variants = result.variants || [];
  if (!variants.length) return empty("No served variant in this window.");
  return h(
    "div",
    {},
    h(
      "p",
      { class: "muted" },
      `Window ${fmtTime(result.window_start)} → ${fmtTime(result.window_end)}. `,
      Object.values(result.methods || {}).join("; "),
    ),
    variants.map((variant) => {
      const features = [
        ...(variant.features || []),
        ...(variant.prediction ? [variant.prediction] : []),
      ];
      const drifted = features.filter((f) => f.drifted && (f.bins || []).length).slice(0, 8);
      return h(
        "article",
        { class: "variant-result" },
        h(
          "h3",
          {},
          `Variant ${variant.variant} (${variant.model})`,
          " ",
          variant.dataset_drift === null || variant.dataset_drift === undefined
            ? ""
            : badge(
                variant.dataset_drift ? "drifted" : "stable",
                variant.dataset_drift ? "failed" : "passed",
              ),
        ),
        facts([
          ["Baseline", variant.baseline],
          ["Requests / rows", `${fmtNumber(variant.requests)} / ${fmtNumber(variant.rows)}`],
          [
            "Drifted features",
            `${fmtNumber((variant.drift_share ?? 0) * 100, 3)}% (threshold ${fmtNumber((variant.drift_share_threshold ?? 0) * 100, 3)}%)`,
          ],
          ["Missing share", fmtNumber(variant.missing_share)],
          ["Schema violations", fmtNumber(variant.schema_violations)],
          ["Quality", variant.quality ? JSON.stringify(variant.quality) : ""],
          ["Notes", (variant.notes || []).join("; ")],
        ]),
        drifted.length
          ? h(
              "div",
              {},
              h(
                "p",
                { class: "muted" },
                "Drifted features: reference (first bar) against this window (second bar), share of rows per bin.",
              ),
              h(
                "div",
                { class: "profile-grid" },
                drifted.map((f) =>
                  h(
                    "div",
                    { class: "profile-card" },
                    h("h3", {}, f.feature),
                    pairedBars(f.bins, {
                      title: `Reference and current distribution of ${f.feature}`,
                    }),
                  ),
                ),
              ),
            )
          : null,
        table(
          [
            { key: "feature", label: "Feature" },
            { key: "kind", label: "Kind" },
            { key: "rule", label: "Test" },
            { key: "score", label: "Score", numeric: true },
            {
              key: "drifted",
              label: "Verdict",
              value: (f) => (f.drifted ? 1 : 0),
              render: (f) =>
                badge(f.drifted ? "drifted" : "stable", f.drifted ? "failed" : "passed"),
            },
            { key: "missing_share", label: "Missing", numeric: true },
          ],
          features,
          { sort: { key: "drifted", desc: true } },
        ),
      );
    }),
  );
}

page("monitors/:name", "view this monitor", async ({ params }) => {
  const monitor = await get(`/monitors/${seg(params.name)}`);
  const runs = await get(`/monitors/${seg(params.name)}/runs`, { limit: 50 });
  const latest = runs.length
    ? await part("read this monitor's latest result", async () =>
        monitorResult(await get(`/monitors/${seg(params.name)}/result`)),
      )
    : empty("Not run yet.");
  const numeric = runs
    .filter((r) => typeof r.summary?.drift_share === "number" || typeof r.requests === "number")
    .reverse();
  return [
    h("h1", {}, `Monitor ${monitor.name}`),
    facts([
      ["Endpoint", link(route("endpoints", monitor.endpoint), monitor.endpoint)],
      ["Baseline", monitor.baseline || ""],
      ["Checks", (monitor.kinds || []).join(", ")],
      ["Schedule", `every ${monitor.schedule_seconds} s`],
      ["Created", `${fmtTime(monitor.created_at)} by ${monitor.created_by}`],
    ]),
    numeric.length > 1
      ? section(
          "Requests per run",
          lineChart(
            [
              {
                name: "requests",
                xs: numeric.map((r) => r.number),
                ys: numeric.map((r) => r.requests),
              },
            ],
            { title: "Requests per monitor run", xLabel: "run" },
          ),
        )
      : null,
    section(
      "Runs",
      table(
        [
          { key: "number", label: "Run", numeric: true },
          { key: "status", label: "Status", render: (r) => badge(r.status) },
          { key: "trigger", label: "Trigger" },
          { key: "requests", label: "Requests", numeric: true },
          {
            key: "window",
            label: "Window",
            sortable: false,
            render: (r) => `${fmtTime(r.window_start)} → ${fmtTime(r.window_end)}`,
          },
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
  return [
    h("h1", {}, "Alarms"),
    h(
      "div",
      { class: "toolbar" },
      h("label", { for: "state-pick" }, "State"),
      h(
        "select",
        { id: "state-pick", onchange: (e) => setQuery({ ...query, state: e.target.value }) },
        ["", "OK", "ALARM", "INSUFFICIENT_DATA"].map((v) =>
          h("option", { value: v, selected: (query.state || "") === v }, v || "any"),
        ),
      ),
    ),
    await pagedTable(
      "/alarms",
      { state: query.state, source: query.source },
      [
        { key: "name", label: "Name", render: (a) => link(route("alarms", a.name), a.name) },
        { key: "state", label: "State", render: (a) => badge(a.state) },
        { key: "resource", label: "Resource" },
        {
          key: "rule",
          label: "Rule",
          sortable: false,
          render: (a) => `${a.metric} ${a.comparison} ${fmtNumber(a.threshold)}`,
        },
        { key: "state_reason", label: "Why" },
        { key: "state_updated_at", label: "Since", render: (a) => fmtTime(a.state_updated_at) },
      ],
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
      [
        "Rule",
        `${alarm.metric} ${alarm.comparison} ${fmtNumber(alarm.threshold)} over ${alarm.datapoints_to_alarm} of ${alarm.evaluation_periods} periods of ${alarm.period_seconds} s`,
      ],
      ["Source", alarm.source],
      ["Missing data", alarm.treat_missing],
      [
        "Actions",
        (alarm.actions || [])
          .map((a) => `${a.kind} ${a.pipeline || a.endpoint || ""} on ${(a.on || []).join("/")}`)
          .join("; "),
      ],
      ["State reason", alarm.state_reason],
    ]),
    section(
      "History",
      table(
        [
          { key: "time", label: "Time", render: (e) => fmtTime(e.time) },
          { key: "kind", label: "Kind" },
          {
            key: "change",
            label: "Change",
            sortable: false,
            render: (e) =>
              e.old_state || e.new_state ? `${e.old_state || ""} → ${e.new_state || ""}` : "",
          },
          { key: "reason", label: "Reason" },
        ],
        history,
        { empty: "No history." },
      ),
    ),
  ];
});
