// Cost: jobs and endpoints priced by CPU and memory time, grouped on the server.

import { get } from "../api.js";
import { barChart } from "../charts.js";
import { facts, fmtNumber, fmtTime, h, section, table } from "../dom.js";
import { page, setQuery } from "../router.js";

page("cost", "read the cost report", async ({ query }) => {
  const by = query.by || "resource";
  const since = query.since || "7d";
  const report = await get("/cost", { by, since });
  const currency = report.prices?.currency || "";
  const lines = [...(report.lines || [])].sort((a, b) => b.cost - a.cost);
  return [
    h("h1", {}, "Cost"),
    h(
      "div",
      { class: "toolbar" },
      h("label", { for: "cost-by" }, "Group by"),
      h(
        "select",
        { id: "cost-by", onchange: (e) => setQuery({ ...query, by: e.target.value }) },
        ["resource", "principal", "pipeline"].map((v) =>
          h("option", { value: v, selected: v === by }, v),
        ),
      ),
      h("label", { for: "cost-since" }, "Since"),
      h(
        "select",
        { id: "cost-since", onchange: (e) => setQuery({ ...query, since: e.target.value }) },
        ["1d", "7d", "30d", "90d"].map((v) => h("option", { value: v, selected: v === since }, v)),
      ),
    ),
    facts([
      ["Period", `${fmtTime(report.since)} → ${fmtTime(report.until)}`],
      ["Total", `${fmtNumber(report.total)} ${currency}`],
      [
        "Prices",
        `${report.prices?.cpu_hour} ${currency}/CPU-hour, ${report.prices?.gb_hour} ${currency}/GB-hour`,
      ],
      ["Note", report.note],
    ]),
    lines.length
      ? section(
          "Largest",
          barChart(
            lines.slice(0, 12).map((l) => ({
              label: l.key.length > 26 ? `…${l.key.slice(-25)}` : l.key,
              value: l.cost,
            })),
            { title: "Cost by group", unit: ` ${currency}` },
          ),
        )
      : null,
    section(
      "Lines",
      table(
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
      ),
    ),
  ];
});
