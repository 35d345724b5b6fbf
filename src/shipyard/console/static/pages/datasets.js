// Datasets: list, one version (schema, profile histograms, validations, drift, lineage,
// preview) and one validation report.

import { get, seg } from "../api.js";
import { dag, histogram } from "../charts.js";
import {
  badge,
  empty,
  facts,
  filterBox,
  fmtBytes,
  fmtNumber,
  fmtTime,
  h,
  link,
  route,
  section,
  table,
} from "../dom.js";
import { page, part, setQuery, byName, listHeading } from "../router.js";
import { pagedTable } from "../paging.js";
import { lineageNodes } from "./lineage.js";

const QUANTILES = ["p01", "p05", "p25", "p50", "p75", "p95", "p99"];
const MASS = [0.01, 0.04, 0.2, 0.25, 0.25, 0.2, 0.04, 0.01];

/** Density bins between a numeric column's profile cut points (min, p01 ... p99, max). */
export function quantileBins(column) {
  const q = column.quantiles || {};
  const cuts = [column.min, ...QUANTILES.map((k) => q[k]), column.max];
  if (cuts.some((v) => typeof v !== "number")) return [];
  const bins = [];
  for (let i = 0; i < MASS.length; i++) {
    const lo = cuts[i];
    const hi = cuts[i + 1];
    const width = hi - lo;
    if (width <= 0) continue;
    bins.push({
      lo,
      hi,
      density: MASS[i] / width,
      label: `${fmtNumber(lo)} – ${fmtNumber(hi)}: ${MASS[i] * 100}% of rows`,
    });
  }
  return bins;
}

/** The share of ``column``'s rows at or below x, read off its profile quantiles. */
function cdf(column, x) {
  const q = column.quantiles || {};
  const cuts = [column.min, ...QUANTILES.map((k) => q[k]), column.max];
  const probs = [0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1];
  if (x <= cuts[0]) return 0;
  for (let i = 1; i < cuts.length; i++) {
    if (x <= cuts[i]) {
      const span = cuts[i] - cuts[i - 1];
      return (
        probs[i - 1] +
        (span > 0
          ? ((x - cuts[i - 1]) / span) * (probs[i] - probs[i - 1])
          : probs[i] - probs[i - 1])
      );
    }
  }
  return 1;
}

/** Population stability index of ``current`` against ``base`` over base's quantile bins. */
export function psi(base, current) {
  const q = base.quantiles || {};
  const cuts = [-Infinity, ...QUANTILES.map((k) => q[k]), Infinity];
  if (cuts.some((v) => typeof v !== "number")) return null;
  let total = 0;
  for (let i = 0; i < MASS.length; i++) {
    const expected = MASS[i];
    const lo = i === 0 ? 0 : cdf(current, cuts[i]);
    const hi = i === MASS.length - 1 ? 1 : cdf(current, cuts[i + 1]);
    const actual = Math.max(hi - lo, 1e-4);
    total += (actual - expected) * Math.log(actual / expected);
  }
  return total;
}

page("datasets", "list datasets", async ({ query }) => {
  return [
    ...listHeading("Datasets", query),
    await pagedTable(
      "/datasets",
      byName(query),
      [
        { key: "name", label: "Name", render: (d) => link(route("datasets", d.name), d.name) },
        { key: "versions", label: "Versions", numeric: true },
        { key: "latest_rows", label: "Rows (latest)", numeric: true },
        { key: "created_at", label: "Created", render: (d) => fmtTime(d.created_at) },
      ],
      { sort: { key: "name", desc: false }, rowHref: (d) => route("datasets", d.name) },
    ),
  ];
});

function profileSection(version) {
  const columns = version.profile?.columns || [];
  if (!columns.length) return section("Profile", empty("No profile for this version."));
  const cards = columns.map((column) => {
    let chart = null;
    if (typeof column.min === "number" && column.quantiles) {
      const bins = quantileBins(column);
      chart = bins.length
        ? histogram(bins, { title: `Distribution of ${column.name}`, small: true })
        : null;
    } else if (column.top_values) {
      const entries = (
        Array.isArray(column.top_values)
          ? column.top_values.map((t) => [t.value, t.count])
          : Object.entries(column.top_values)
      ).slice(0, 8);
      const total = column.count || 1;
      chart = h(
        "ul",
        { class: "topvals" },
        entries.map(([value, count]) =>
          h(
            "li",
            {},
            h("span", { class: "tv-label" }, value === null ? "(null)" : String(value)),
            h("meter", { min: 0, max: total, value: count }),
            h("span", { class: "num" }, fmtNumber(count)),
          ),
        ),
      );
    }
    return h(
      "article",
      { class: "profile-card" },
      h("h3", {}, column.name, " ", h("span", { class: "muted" }, column.type)),
      chart,
      facts([
        [
          "nulls",
          `${fmtNumber(column.nulls)} (${fmtNumber((column.null_fraction || 0) * 100, 3)}%)`,
        ],
        ["distinct", fmtNumber(column.distinct)],
        ["mean", fmtNumber(column.mean)],
        ["std", fmtNumber(column.std)],
        [
          "min … max",
          column.min === null || column.min === undefined
            ? ""
            : `${fmtNumber(column.min)} … ${fmtNumber(column.max)}`,
        ],
      ]),
    );
  });
  return section(
    "Profile",
    h(
      "p",
      { class: "muted" },
      "Histograms are drawn from the profile's quantiles (each bar holds the stated share of rows).",
    ),
    h("div", { class: "profile-grid" }, cards),
  );
}

function driftSection(version, previous) {
  if (!previous) return section("Drift", empty("Only one version: nothing to compare with yet."));
  const before = new Map((previous.profile?.columns || []).map((c) => [c.name, c]));
  const rows = [];
  for (const column of version.profile?.columns || []) {
    const base = before.get(column.name);
    if (!base) {
      rows.push({ name: column.name, change: "added" });
      continue;
    }
    const index = typeof column.min === "number" && base.quantiles ? psi(base, column) : null;
    rows.push({
      name: column.name,
      change: base.type === column.type ? "" : `type ${base.type} → ${column.type}`,
      mean_before: base.mean,
      mean_after: column.mean,
      null_before: base.null_fraction,
      null_after: column.null_fraction,
      psi: index,
    });
  }
  for (const name of before.keys())
    if (!rows.some((r) => r.name === name)) rows.push({ name, change: "removed" });
  return section(
    `Drift: v${version.version} against v${previous.version}`,
    h(
      "p",
      { class: "muted" },
      "PSI from the two profiles' quantiles: under 0.1 stable, 0.1–0.25 moderate, over 0.25 drifted.",
    ),
    table(
      [
        { key: "name", label: "Column" },
        { key: "change", label: "Change" },
        { key: "mean_before", label: "Mean before", numeric: true },
        { key: "mean_after", label: "Mean after", numeric: true },
        { key: "null_after", label: "Nulls after", numeric: true },
        {
          key: "psi",
          label: "PSI",
          numeric: true,
          render: (r) =>
            r.psi === null || r.psi === undefined
              ? ""
              : h(
                  "span",
                  { class: r.psi > 0.25 ? "bad" : r.psi > 0.1 ? "warn" : "" },
                  fmtNumber(r.psi, 3),
                ),
        },
      ],
      rows,
      { sort: { key: "psi", desc: true } },
    ),
  );
}

page("datasets/:name", "view this dataset", async ({ params, query }) => {
  const name = params.name;
  // One version (and the one before it, for drift): never every version's profile at once.
  const wanted = Number(query.version) || null;
  const one = (v) => get(`/datasets/${seg(name)}`, v ? { version: v } : undefined);
  const [version, newest, before] = await Promise.all([
    one(wanted),
    wanted ? one(null) : null,
    wanted && wanted > 1 ? one(wanted - 1).catch(() => null) : null,
  ]);
  const latest = (newest || version).version;
  const previous = wanted
    ? before
    : version.version > 1
      ? await one(version.version - 1).catch(() => null)
      : null;
  const numbers = [];
  for (let v = latest; v >= 1 && numbers.length < 500; v--) numbers.push(v);
  const ref = `${name}@${version.version}`;
  const [validations, lineage, preview] = await Promise.all([
    part("read this dataset's validation reports", async () => {
      const list = await get(`/datasets/${seg(name)}/validations`, {
        version: version.version,
        limit: 20,
      });
      return table(
        [
          {
            key: "id",
            label: "Report",
            render: (r) => link(route("validations", r.id), `#${r.id}`),
          },
          { key: "contract", label: "Contract" },
          { key: "status", label: "Status", render: (r) => badge(r.status) },
          {
            key: "failed_checks",
            label: "Failed checks",
            render: (r) => (r.failed_checks || []).join(", "),
          },
          {
            key: "drifted_columns",
            label: "Drifted columns",
            render: (r) => (r.drifted_columns || []).join(", "),
          },
          { key: "created_at", label: "When", render: (r) => fmtTime(r.created_at) },
        ],
        list,
        {
          empty: "No validation reports for this version.",
          rowHref: (r) => route("validations", r.id),
        },
      );
    }),
    part("read this dataset's lineage", async () => {
      const graph = await get("/dataset-lineage", { ref });
      return graph.nodes.length > 1
        ? dag(...lineageNodes(graph, `dataset:${ref}`), { title: `Lineage of ${ref}` })
        : empty("No transforms read or wrote this version.");
    }),
    part("read this dataset's rows", async () => {
      const head = await get(`/datasets/${seg(name)}/head`, { version: version.version, rows: 10 });
      return previewTable(head);
    }),
  ]);
  return [
    h("h1", {}, name, " ", h("span", { class: "muted" }, `v${version.version}`)),
    h(
      "div",
      { class: "toolbar" },
      h("label", { for: "version-pick" }, "Version"),
      h(
        "select",
        { id: "version-pick", onchange: (e) => setQuery({ ...query, version: e.target.value }) },
        numbers.map((v) =>
          h(
            "option",
            { value: v, selected: v === version.version },
            v === latest ? `v${v} (latest)` : `v${v}`,
          ),
        ),
      ),
    ),
    facts([
      ["Reference", ref],
      ["Rows", fmtNumber(version.rows)],
      ["Size", fmtBytes(version.size_bytes)],
      ["Digest", h("code", {}, version.digest)],
      ["Source", version.source],
      ["Created", `${fmtTime(version.created_at)} by ${version.created_by}`],
      ["Warnings", (version.warnings || []).join("; ")],
    ]),
    section(
      "Schema",
      table(
        [
          { key: "name", label: "Column" },
          { key: "type", label: "Type" },
          { key: "arrow_type", label: "Arrow type" },
          { key: "nullable", label: "Nullable", render: (c) => (c.nullable ? "yes" : "no") },
        ],
        version.columns || [],
      ),
    ),
    profileSection(version),
    section("Validation reports", validations),
    driftSection(version, previous),
    section("Lineage", lineage),
    section("Preview (first 10 rows)", preview),
  ];
});

function previewTable(head) {
  const columns = head.columns || Object.keys((head.rows || [])[0] || {});
  const rows = (head.rows || []).map((row) =>
    Array.isArray(row) ? Object.fromEntries(columns.map((c, i) => [c, row[i]])) : row,
  );
  return table(
    columns.map((c) => ({
      key: c,
      label: c,
      sortable: false,
      render: (r) =>
        r[c] === null || r[c] === undefined
          ? ""
          : typeof r[c] === "number"
            ? fmtNumber(r[c])
            : String(r[c]),
    })),
    rows,
    { empty: "No rows." },
  );
}

page("validations/:id", "view this validation report", async ({ params }) => {
  const report = await get(`/validations/${seg(params.id)}`);
  const [name] = report.dataset.split("@");
  return [
    h("h1", {}, `Validation #${report.id}`, " ", badge(report.status)),
    facts([
      [
        "Dataset",
        link(
          route("datasets", name) + `?version=${report.dataset.split("@")[1] || ""}`,
          report.dataset,
        ),
      ],
      ["Contract", report.contract],
      ["Rows", fmtNumber(report.rows)],
      ["Created", `${fmtTime(report.created_at)} by ${report.created_by || ""}`],
    ]),
    section(
      "Checks",
      table(
        [
          { key: "column", label: "Column", render: (c) => c.column || "(table)" },
          { key: "check", label: "Check" },
          { key: "severity", label: "Severity" },
          {
            key: "passed",
            label: "Result",
            value: (c) => (c.passed ? 1 : 0),
            render: (c) => badge(c.passed ? "passed" : "failed"),
          },
          {
            key: "expected",
            label: "Expected",
            sortable: false,
            render: (c) => JSON.stringify(c.expected),
          },
          {
            key: "observed",
            label: "Observed",
            sortable: false,
            render: (c) => JSON.stringify(c.observed),
          },
          { key: "failing_share", label: "Failing share", numeric: true },
          { key: "message", label: "Message" },
        ],
        report.checks || [],
        { sort: { key: "passed", desc: false } },
      ),
    ),
  ];
});
