// One evaluation: metrics with confidence intervals, threshold checks, confusion matrix.

import { get, seg } from "../api.js";

import { badge, facts, fmtNumber, h, link, route, section, shortId, table } from "../dom.js";
import { page } from "../router.js";

page("evaluations/:id", "view this evaluation", async ({ params }) => {
  const ev = await get(`/evaluations/${seg(params.id)}`);
  const rows = Object.entries(ev.metrics || {}).map(([name, m]) => ({
    name,
    value: m.value,
    low: m.low,
    high: m.high,
    baseline: ev.baseline_metrics?.[name],
  }));
  const labels = ev.classes || [];
  return [
    h(
      "h1",
      {},
      `Evaluation ${shortId(ev.id)}`,
      " ",
      ev.passed === null || ev.passed === undefined ? "" : badge(ev.passed ? "passed" : "failed"),
    ),
    facts([
      [
        "Model version",
        link(route("models", ev.model, "versions", ev.version), `${ev.model}@${ev.version}`),
      ],
      ["Data", ev.data],
      ["Baseline", ev.baseline || ""],
      ["Rows", fmtNumber(ev.rows)],
      ["Confidence", `${fmtNumber(ev.confidence * 100, 3)}% over ${ev.resamples} resamples`],
      [
        "Full report",
        link(`/api/v1/evaluations/${encodeURIComponent(ev.id)}/report`, "HTML report", {
          target: "_blank",
          rel: "noopener",
        }),
      ],
    ]),
    section(
      "Metrics with confidence intervals",
      table(
        [
          { key: "name", label: "Metric" },
          { key: "value", label: "Value", numeric: true },
          { key: "low", label: "Low", numeric: true },
          { key: "high", label: "High", numeric: true },
          { key: "baseline", label: "Baseline", numeric: true },
        ],
        rows,
      ),
    ),
    section(
      "Threshold checks",
      table(
        [
          { key: "rule", label: "Rule" },
          { key: "passed", label: "Result", render: (v) => badge(v.passed ? "passed" : "failed") },
          { key: "message", label: "Message" },
        ],
        ev.validation || [],
        { empty: "No thresholds." },
      ),
    ),
    ev.confusion_matrix
      ? section(
          "Confusion matrix (rows: actual, columns: predicted)",
          h(
            "table",
            { class: "data confusion" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                h("th", {}, ""),
                labels.map((c) => h("th", { scope: "col" }, c)),
              ),
            ),
            h(
              "tbody",
              {},
              ev.confusion_matrix.map((row, i) =>
                h(
                  "tr",
                  {},
                  h("th", { scope: "row" }, labels[i] ?? i),
                  row.map((n) => h("td", { class: "num" }, fmtNumber(n))),
                ),
              ),
            ),
          ),
        )
      : null,
  ];
});
