// Endpoints: list, one endpoint (variants, live traffic split with a weights form,
// per-variant latency and errors, A/B verdicts, deployment timeline with rollback).

import { get, post, put, seg, unrouted } from "../api.js";
import { barChart, lineChart } from "../charts.js";
import {
  badge,
  empty,
  facts,
  filterBox,
  fmtNumber,
  fmtTime,
  h,
  link,
  notice,
  route,
  section,
  shortId,
  table,
} from "../dom.js";
import { page, part, setQuery, actionMessage, byName, listHeading } from "../router.js";
import { pagedTable } from "../paging.js";

const modelLink = (name, version) =>
  link(route("models", name, "versions", version), `${name}@${version}`);

page("endpoints", "list endpoints", async ({ query }) => {
  return [
    ...listHeading("Endpoints", query),
    await pagedTable(
      "/endpoints",
      byName(query),
      [
        { key: "name", label: "Name", render: (e) => link(route("endpoints", e.name), e.name) },
        { key: "model_ref", label: "Model", render: (e) => modelLink(e.model, e.model_version) },
        {
          key: "variants",
          label: "Traffic split",
          sortable: false,
          render: (e) =>
            (e.variants || [])
              .map((v) => `${v.name} ${fmtNumber(v.traffic_percent, 3)}%`)
              .join(" · "),
        },
        {
          key: "deployment",
          label: "Rollout",
          sortable: false,
          render: (e) => (e.deployment ? badge(e.deployment.status || "running") : ""),
        },
        {
          key: "live",
          label: "Live instances",
          value: (e) => (e.instances || []).filter((i) => i.live).length,
          render: (e) =>
            `${(e.instances || []).filter((i) => i.live).length}/${(e.instances || []).length}`,
        },
        { key: "updated_at", label: "Updated", render: (e) => fmtTime(e.updated_at) },
      ],
      { sort: { key: "name", desc: false }, rowHref: (e) => route("endpoints", e.name) },
    ),
  ];
});

function weightsForm(endpoint, rerender) {
  const status = h("div", { class: "form-status" });
  const inputs = (endpoint.variants || []).map((variant) => {
    const id = `weight-${variant.name}`;
    return {
      variant,
      input: h("input", {
        id,
        type: "number",
        min: 0,
        step: "any",
        value: variant.weight,
        required: true,
        "data-variant": variant.name,
      }),
      id,
    };
  });
  const form = h(
    "form",
    { class: "inline-form weights", "aria-label": "Traffic weights" },
    inputs.map(({ variant, input, id }) => [
      h("label", { for: id }, `${variant.name} weight`),
      input,
    ]),
    h("button", { type: "submit", class: "primary" }, "Shift traffic"),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const weights = Object.fromEntries(
      inputs.map(({ variant, input }) => [variant.name, Number(input.value)]),
    );
    try {
      await put(`/endpoints/${seg(endpoint.name)}/weights`, { weights });
      await rerender();
      const area = document.querySelector(".weights .form-status");
      if (area) area.replaceChildren(notice("ok", "Traffic shifted."));
    } catch (error) {
      status.replaceChildren(
        notice("error", actionMessage(`shift traffic on ${endpoint.name}`, error)),
      );
    }
  });
  return form;
}

function liveSection(report) {
  const variants = report.variants || [];
  const latency = variants.flatMap((v) => [
    { label: `${v.name} p50`, value: v.live?.p50_latency_ms ?? 0 },
    { label: `${v.name} p95`, value: v.live?.p95_latency_ms ?? 0 },
    { label: `${v.name} p99`, value: v.live?.p99_latency_ms ?? 0 },
  ]);
  const errors = variants.map((v) => ({
    label: v.name,
    value: (v.live?.error_rate ?? 0) * 100,
    note: `(${fmtNumber(v.live?.errors ?? 0)} of ${fmtNumber(v.live?.requests ?? 0)})`,
  }));
  const anyRequests = variants.some((v) => (v.live?.requests || 0) > 0);
  return h(
    "div",
    {},
    table(
      [
        { key: "name", label: "Variant" },
        {
          key: "requests",
          label: "Requests",
          numeric: true,
          value: (v) => v.live?.requests,
          render: (v) => fmtNumber(v.live?.requests ?? 0),
        },
        {
          key: "errors",
          label: "Errors",
          numeric: true,
          value: (v) => v.live?.errors,
          render: (v) => fmtNumber(v.live?.errors ?? 0),
        },
        {
          key: "p50",
          label: "p50 ms",
          numeric: true,
          value: (v) => v.live?.p50_latency_ms,
          render: (v) => fmtNumber(v.live?.p50_latency_ms),
        },
        {
          key: "p95",
          label: "p95 ms",
          numeric: true,
          value: (v) => v.live?.p95_latency_ms,
          render: (v) => fmtNumber(v.live?.p95_latency_ms),
        },
        {
          key: "p99",
          label: "p99 ms",
          numeric: true,
          value: (v) => v.live?.p99_latency_ms,
          render: (v) => fmtNumber(v.live?.p99_latency_ms),
        },
        {
          key: "quality",
          label: `Quality (${report.metric})`,
          numeric: true,
          value: (v) => v.quality?.value,
          render: (v) =>
            v.quality
              ? `${fmtNumber(v.quality.value)} [${fmtNumber(v.quality.low)}, ${fmtNumber(v.quality.high)}]`
              : "",
        },
      ],
      variants,
    ),
    anyRequests
      ? h(
          "div",
          { class: "chart-grid" },
          h(
            "div",
            { class: "chart-cell" },
            h("h3", {}, "Latency by variant (ms)"),
            barChart(latency, { title: "Latency percentiles by variant", unit: " ms" }),
          ),
          h(
            "div",
            { class: "chart-cell" },
            h("h3", {}, "Error rate by variant (%)"),
            barChart(errors, {
              title: "Error rate by variant",
              unit: "%",
              max: Math.max(1, ...errors.map((e) => e.value)),
            }),
          ),
        )
      : empty("No requests captured in this window yet."),
  );
}

function verdictSection(report) {
  return h(
    "div",
    {},
    h(
      "p",
      {},
      `${fmtNumber(report.labelled)} labelled predictions, ${fmtNumber(report.matched)} matched; baseline ${report.baseline || "none"}.`,
    ),
    report.note ? h("p", { class: "muted" }, report.note) : null,
    table(
      [
        { key: "variant", label: "Variant" },
        { key: "baseline", label: "Against" },
        { key: "difference", label: `Δ ${report.metric}`, numeric: true },
        {
          key: "ci",
          label: "Interval",
          sortable: false,
          render: (c) => `[${fmtNumber(c.ci_low)}, ${fmtNumber(c.ci_high)}]`,
        },
        { key: "p_value", label: "p", numeric: true },
        {
          key: "significant",
          label: "Verdict",
          render: (c) =>
            badge(
              c.significant ? "significant" : "not significant",
              c.significant ? "passed" : "pending",
            ),
        },
        { key: "statement", label: "Statement" },
      ],
      report.comparisons || [],
      { empty: "No verdict yet." },
    ),
  );
}

function timeline(deployments, endpoint, rerender) {
  const status = h("div", { class: "form-status" });
  const rollback = h("button", { type: "button", class: "danger" }, "Roll back");
  rollback.addEventListener("click", async () => {
    if (!confirm(`Roll back ${endpoint.name} to the variants before its last rollout?`)) return;
    rollback.disabled = true;
    try {
      await post(`/endpoints/${seg(endpoint.name)}/rollback`);
      await rerender();
      const area = document.querySelector(".timeline .form-status");
      if (area) area.replaceChildren(notice("ok", "Rolled back."));
    } catch (error) {
      rollback.disabled = false;
      status.replaceChildren(notice("error", actionMessage(`roll back ${endpoint.name}`, error)));
    }
  });
  const items = deployments.map((d) =>
    h(
      "li",
      { class: ["deployment", `deployment-${d.status}`] },
      h(
        "h3",
        {},
        `${d.strategy} to ${d.model}`,
        " ",
        badge(d.status),
        " ",
        h(
          "span",
          { class: "muted" },
          `${fmtTime(d.created_at)} by ${d.created_by} · ${shortId(d.id)}`,
        ),
      ),
      d.reason ? h("p", {}, d.reason) : null,
      h(
        "ol",
        { class: "events" },
        (d.history || []).map((event) =>
          h(
            "li",
            {},
            h("time", { datetime: event.time }, fmtTime(event.time)),
            " ",
            h("strong", {}, event.event),
            event.step !== null && event.step !== undefined ? ` step ${event.step}` : "",
            " ",
            h(
              "span",
              { class: "muted" },
              Object.entries(event.weights || {})
                .map(([k, v]) => `${k}=${fmtNumber(v, 3)}`)
                .join(" "),
            ),
            event.note ? h("div", { class: "note" }, event.note) : null,
          ),
        ),
      ),
    ),
  );
  return h(
    "div",
    { class: "timeline" },
    h("div", { class: "toolbar" }, rollback, status),
    deployments.length
      ? h("ol", { class: "deployments" }, items)
      : empty("No rollouts on this endpoint."),
  );
}

/**
 * Per-variant requests, latency and error rate over the window, bucketed on the server
 * (endpoints.traffic); null when this server has no such operation.
 */
async function trafficCharts(name, seconds) {
  let traffic;
  try {
    traffic = await get(`/endpoints/${seg(name)}/traffic`, {
      minutes: Math.round(seconds / 60),
      buckets: 60,
    });
  } catch (error) {
    if (unrouted(error)) return null;
    throw error;
  }
  const variants = traffic.variants || [];
  if (!variants.some((v) => v.requests.some((n) => n > 0)))
    return empty("No requests in this window.");
  const xs = Array.from(
    { length: traffic.buckets },
    (_, i) => -((traffic.buckets - i) * traffic.bucket_seconds) / 60,
  );
  const chart = (title, field, scale = 1) =>
    h(
      "div",
      { class: "chart-cell" },
      h("h3", {}, title),
      lineChart(
        variants.map((v) => ({
          name: v.variant,
          xs,
          ys: v[field].map((value) => (value === null ? NaN : value * scale)),
        })),
        { title, xLabel: "minutes ago", yLabel: "", zero: true },
      ),
    );
  return h(
    "div",
    { class: "chart-grid" },
    chart("Requests per bucket", "requests"),
    chart("p95 latency (ms)", "p95_latency_ms"),
    chart("p50 latency (ms)", "p50_latency_ms"),
    chart("Error rate (%)", "error_rate", 100),
  );
}

page("endpoints/:name", "view this endpoint", async ({ params, query, rerender }) => {
  const endpoint = await get(`/endpoints/${seg(params.name)}`);
  const window = Number(query.window || 3600);
  const [live, series, deployments] = await Promise.all([
    part("compare this endpoint's variants", async () => {
      const report = await get(`/endpoints/${seg(endpoint.name)}/compare`, {
        since_seconds: window,
      });
      return { live: liveSection(report), verdict: verdictSection(report) };
    }),
    part("read this endpoint's traffic", () => trafficCharts(endpoint.name, window)),
    part("list this endpoint's rollouts", async () =>
      timeline(
        await get("/deployments", { endpoint: endpoint.name, limit: 20 }),
        endpoint,
        rerender,
      ),
    ),
  ]);
  const split = (endpoint.variants || []).map((v) => ({
    label: v.name,
    value: v.traffic_percent,
    note: v.shadow_percent ? `(+${fmtNumber(v.shadow_percent, 3)}% shadow)` : "",
  }));
  return [
    h("h1", {}, endpoint.name, " ", endpoint.production ? badge("production") : ""),
    facts([
      ["Model", modelLink(endpoint.model, endpoint.model_version)],
      ["Requested as", endpoint.model_ref],
      ["Generation", endpoint.generation],
      [
        "Instances",
        (endpoint.instances || [])
          .map((i) => `${i.worker} ${i.live ? "live" : "not live"} (gen ${i.generation})`)
          .join("; "),
      ],
      [
        "Data capture",
        Object.keys(endpoint.capture || {}).length ? JSON.stringify(endpoint.capture) : "off",
      ],
      ["Created", `${fmtTime(endpoint.created_at)} by ${endpoint.created_by}`],
    ]),
    section(
      "Variants",
      table(
        [
          { key: "name", label: "Variant" },
          {
            key: "model",
            label: "Model version",
            render: (v) => modelLink(v.model, v.model_version),
          },
          { key: "approval", label: "Approval", render: (v) => badge(v.approval) },
          { key: "role", label: "Role" },
          { key: "weight", label: "Weight", numeric: true },
          { key: "traffic_percent", label: "Traffic %", numeric: true },
          { key: "shadow_percent", label: "Shadow %", numeric: true },
          { key: "runtime", label: "Runtime" },
        ],
        endpoint.variants || [],
      ),
    ),
    section(
      "Live traffic split",
      barChart(split, { title: "Traffic percent by variant", max: 100, unit: "%" }),
      weightsForm(endpoint, rerender),
    ),
    section(
      `Latency and errors (last ${fmtNumber(window / 60)} min)`,
      h(
        "div",
        { class: "toolbar" },
        h("label", { for: "window-pick" }, "Window"),
        h(
          "select",
          { id: "window-pick", onchange: (e) => setQuery({ ...query, window: e.target.value }) },
          [
            [300, "5 min"],
            [3600, "1 hour"],
            [86400, "1 day"],
            [604800, "7 days"],
          ].map(([v, l]) => h("option", { value: v, selected: v === window }, l)),
        ),
      ),
      series,
      live.live || live,
    ),
    section("A/B verdicts", live.verdict || live.cloneNode(true)),
    section("Deployment timeline", deployments),
  ];
});
