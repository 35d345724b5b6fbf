// Models: list, one model (versions, aliases), one version (lineage dataset -> run ->
// model -> endpoint, evaluations, approve or reject with a reason).

import { del, get, getAll, post, put, seg } from "../api.js";
import { dag } from "../charts.js";
import {
  badge,
  facts,
  filterBox,
  fmtBytes,
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
import { lineageNodes } from "./lineage.js";
import { modelCard } from "./card.js";

page("models", "list models", async ({ query }) => {
  return [
    ...listHeading("Models", query),
    await pagedTable(
      "/models",
      byName(query),
      [
        { key: "name", label: "Name", render: (m) => link(route("models", m.name), m.name) },
        { key: "latest_version", label: "Latest version", numeric: true },
        {
          key: "aliases",
          label: "Aliases",
          sortable: false,
          render: (m) =>
            Object.entries(m.aliases || {})
              .map(([a, v]) => `${a} → v${v}`)
              .join(", "),
        },
        { key: "created_at", label: "Created", render: (m) => fmtTime(m.created_at) },
      ],
      { sort: { key: "name", desc: false }, rowHref: (m) => route("models", m.name) },
    ),
  ];
});

function aliasForm(model, rerender) {
  const status = h("div");
  const alias = h("input", {
    id: "alias-name",
    required: true,
    pattern: "[a-z][a-z0-9-]*",
    placeholder: "champion",
  });
  const version = h(
    "select",
    { id: "alias-version" },
    model.versions.map((v) => h("option", { value: v.version }, `v${v.version}`)),
  );
  const form = h(
    "form",
    { class: "inline-form", "aria-label": "Set an alias" },
    h("label", { for: "alias-name" }, "Alias"),
    alias,
    h("label", { for: "alias-version" }, "points at"),
    version,
    h("button", { type: "submit" }, "Set alias"),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await put(`/models/${seg(model.name)}/aliases/${seg(alias.value.trim())}`, {
        version: Number(version.value),
      });
      rerender();
    } catch (error) {
      status.replaceChildren(notice("error", actionMessage("set this alias", error)));
    }
  });
  return form;
}

page("models/:name", "view this model", async ({ params, rerender }) => {
  const model = await get(`/models/${seg(params.name)}`);
  const versions = [...model.versions].sort((a, b) => b.version - a.version);
  const gate = await get(`/models/${seg(model.name)}/gate`).catch(() => null);
  const aliasRows = Object.entries(model.aliases || {}).map(([alias, version]) => ({
    alias,
    version,
  }));
  return [
    h("h1", {}, model.name),
    facts([
      ["Created", fmtTime(model.created_at)],
      ["Latest version", `v${model.latest_version}`],
      ["Evaluation gate", gate ? JSON.stringify(gate.thresholds || gate) : "none"],
    ]),
    section(
      "Versions",
      table(
        [
          {
            key: "version",
            label: "Version",
            numeric: true,
            render: (v) =>
              link(route("models", model.name, "versions", v.version), `v${v.version}`),
          },
          { key: "approval", label: "Approval", render: (v) => badge(v.approval) },
          {
            key: "aliases",
            label: "Aliases",
            sortable: false,
            render: (v) => (v.aliases || []).join(", "),
          },
          { key: "flavor", label: "Flavor" },
          ...metricColumns(versions),
          {
            key: "run_id",
            label: "Run",
            sortable: false,
            render: (v) => (v.run_id ? link(route("runs", v.run_id), shortId(v.run_id)) : ""),
          },
          { key: "created_at", label: "Created", render: (v) => fmtTime(v.created_at) },
        ],
        versions,
        {
          sort: { key: "version", desc: true },
          rowHref: (v) => route("models", model.name, "versions", v.version),
        },
      ),
    ),
    section(
      "Aliases",
      table(
        [
          { key: "alias", label: "Alias" },
          {
            key: "version",
            label: "Version",
            render: (a) =>
              link(route("models", model.name, "versions", a.version), `v${a.version}`),
          },
          {
            key: "remove",
            label: "",
            sortable: false,
            render: (a) =>
              h(
                "button",
                {
                  type: "button",
                  class: "quiet",
                  onclick: async (e) => {
                    try {
                      await del(`/models/${seg(model.name)}/aliases/${seg(a.alias)}`);
                      rerender();
                    } catch (error) {
                      e.target.replaceWith(
                        notice("error", actionMessage("remove this alias", error)),
                      );
                    }
                  },
                },
                `Remove ${a.alias}`,
              ),
          },
        ],
        aliasRows,
        { empty: "No aliases." },
      ),
      aliasForm({ ...model, versions }, rerender),
    ),
  ];
});

function metricColumns(versions) {
  const names = [...new Set(versions.flatMap((v) => Object.keys(v.metrics || {})))]
    .sort()
    .slice(0, 4);
  return names.map((m) => ({
    key: `m:${m}`,
    label: m,
    numeric: true,
    value: (v) => v.metrics?.[m],
    render: (v) => fmtNumber(v.metrics?.[m]),
  }));
}

// The latest decision (status, who, when, why) in a sentence; versions never decided say so.
function latestDecision(version) {
  if (!version.approval_by)
    return h("p", {}, "Current status: ", badge(version.approval), " (no decision recorded)");
  return h(
    "p",
    { class: "approval-latest" },
    "Current status: ",
    badge(version.approval),
    ` by ${version.approval_by}, ${fmtTime(version.approval_at)}`,
    version.approval_reason
      ? [": ", h("q", { class: "approval-reason" }, version.approval_reason)]
      : "",
  );
}

function approvalHistory(decisions) {
  return table(
    [
      { key: "decided_at", label: "When", render: (d) => fmtTime(d.decided_at) },
      { key: "status", label: "Status", render: (d) => badge(d.status) },
      { key: "principal", label: "By" },
      { key: "reason", label: "Reason" },
    ],
    [...decisions].reverse(),
    { empty: "No decision yet." },
  );
}

function approvalForm(version, rerender) {
  const status = h("div", { class: "form-status" });
  const reason = h("textarea", {
    id: "approval-reason",
    rows: 2,
    required: true,
    maxlength: 1000,
    placeholder: "Why (kept with the decision)",
  });
  const decide = async (decision, button) => {
    if (!reason.value.trim()) {
      status.replaceChildren(notice("error", "A reason is required."));
      reason.focus();
      return;
    }
    button.disabled = true;
    const path = `/models/${seg(version.name)}/versions/${version.version}/approval`;
    try {
      await post(path, { status: decision, reason: reason.value.trim() });
      await rerender();
      const area = document.querySelector(".approval .form-status");
      if (area) area.replaceChildren(notice("ok", `${decision}.`));
    } catch (error) {
      button.disabled = false;
      status.replaceChildren(
        notice(
          "error",
          actionMessage(`set the approval of ${version.name}@${version.version}`, error),
        ),
      );
    }
  };
  const approve = h("button", { type: "button", class: "primary" }, "Approve");
  const reject = h("button", { type: "button", class: "danger" }, "Reject");
  approve.addEventListener("click", () => decide("Approved", approve));
  reject.addEventListener("click", () => decide("Rejected", reject));
  return h(
    "form",
    { class: "approval", "aria-label": "Approve or reject", onsubmit: (e) => e.preventDefault() },
    h("label", { for: "approval-reason" }, "Reason"),
    reason,
    h("div", { class: "buttons" }, approve, reject),
    status,
  );
}

async function lineageGraph(version) {
  const ref = `${version.name}@${version.version}`;
  const [graph, endpoints] = await Promise.all([
    get("/lineage", { kind: "model", ref }),
    getAll("/endpoints").catch(() => []),
  ]);
  const me = `model:${ref}`;
  const extra = { nodes: [], edges: [] };
  for (const endpoint of endpoints) {
    const serving = (endpoint.variants || []).filter(
      (v) => v.model === version.name && v.model_version === version.version,
    );
    if (!serving.length) continue;
    extra.nodes.push({
      id: `endpoint:${endpoint.name}`,
      kind: "endpoint",
      label: `${endpoint.name} (${serving.map((v) => `${v.name} ${fmtNumber(v.traffic_percent, 3)}%`).join(", ")})`,
      href: route("endpoints", endpoint.name),
    });
    extra.edges.push([me, `endpoint:${endpoint.name}`]);
  }
  return dag(...lineageNodes(graph, me, extra), { title: `Lineage of ${ref}` });
}

page("models/:name/versions/:version", "view this model version", async ({ params, rerender }) => {
  const ref = `${params.name}@${params.version}`;
  const version = await get(`/model-versions/${seg(ref)}`);
  const approvals = `/models/${seg(version.name)}/versions/${version.version}/approvals`;
  const cardDrawn = part("read this version's model card", () =>
    modelCard(version.name, version.version),
  );
  const [lineage, evaluations, history] = await Promise.all([
    part("read this version's lineage", () => lineageGraph(version)),
    part("read this version's evaluations", async () => {
      const list = await get(`/model-versions/${seg(ref)}/evaluations`, { limit: 20 });
      return table(
        [
          {
            key: "id",
            label: "Evaluation",
            render: (e) => link(route("evaluations", e.id), shortId(e.id)),
          },
          { key: "data", label: "Data" },
          { key: "baseline", label: "Baseline" },
          {
            key: "passed",
            label: "Verdict",
            render: (e) =>
              e.passed === null || e.passed === undefined
                ? ""
                : badge(e.passed ? "passed" : "failed"),
          },
          ...["auc", "accuracy", "f1", "rmse", "r2"]
            .filter((m) => list.some((e) => e.metrics?.[m]))
            .map((m) => ({
              key: m,
              label: m,
              numeric: true,
              value: (e) => e.metrics?.[m]?.value,
              render: (e) => fmtNumber(e.metrics?.[m]?.value),
            })),
          { key: "created_at", label: "When", render: (e) => fmtTime(e.created_at) },
        ],
        list,
        { empty: "Not evaluated yet.", rowHref: (e) => route("evaluations", e.id) },
      );
    }),
    part("read this version's approval history", async () =>
      approvalHistory(await get(approvals)),
    ),
  ]);
  const card = await cardDrawn;
  return [
    h("h1", {}, `${version.name} v${version.version}`, " ", badge(version.approval)),
    facts([
      ["Model", link(route("models", version.name), version.name)],
      ["Aliases", (version.aliases || []).join(", ")],
      ["Flavor", version.flavor],
      ["Task", version.signature?.task],
      ["Target", version.signature?.target],
      ["Size", fmtBytes(version.size_bytes)],
      ["Digest", h("code", {}, version.digest)],
      ["Run", version.run_id ? link(route("runs", version.run_id), version.run_id) : ""],
      ["Registered", `${fmtTime(version.created_at)} by ${version.created_by}`],
    ]),
    section(
      "Approval",
      latestDecision(version),
      approvalForm(version, rerender),
      h("h3", {}, "History"),
      history,
    ),
    section("Lineage", lineage),
    section("Model card", card),
    h(
      "div",
      { class: "columns" },
      section(
        "Metrics",
        table(
          [
            { key: "key", label: "Metric" },
            { key: "value", label: "Value", numeric: true },
          ],
          Object.entries(version.metrics || {}).map(([key, value]) => ({ key, value })),
        ),
      ),
      section(
        "Signature inputs",
        table(
          [
            { key: "name", label: "Input" },
            { key: "type", label: "Type" },
          ],
          version.signature?.inputs || [],
        ),
      ),
    ),
    section("Evaluations", evaluations),
    (version.gate_checks || []).length
      ? section(
          "Gate checks",
          table(
            [
              { key: "stage", label: "Stage" },
              {
                key: "passed",
                label: "Passed",
                render: (g) => badge(g.passed ? "passed" : "failed"),
              },
              { key: "reason", label: "Reason" },
            ],
            version.gate_checks,
          ),
        )
      : null,
  ];
});
