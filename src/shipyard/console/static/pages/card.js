// A model version's card (the server's record of it: approvals, training, data, evaluations,
// gates, lineage) and its four-eyes state. Every field may hold what a user typed (a run's
// name and parameters, an approval's reason), so the card is built from text nodes only:
// markup in a field shows as the characters it is, and nothing in it runs.

import { get, seg } from "../api.js";
import { badge, fmtTime, h, table } from "../dom.js";

const num = (value, digits) => (typeof value === "number" ? Number(value.toPrecision(digits)) : "");

/** The card as [title, header, rows], the same tables as ModelCard.sections() in Python. */
function sections(card) {
  const s = card.summary;
  const out = [];
  const overview = [
    ["model", `${card.model}@${card.version}`],
    ["flavor", s.flavor],
    ["artifact digest", s.digest],
    ["size", `${(s.size_bytes || 0).toLocaleString("en-US")} bytes`],
    ["registered by", `${s.created_by} at ${fmtTime(s.created_at)}`],
    ["approval", s.approval + (s.approval_reason ? ` (${s.approval_reason})` : "")],
    ["four-eyes rule", card.four_eyes ? "on" : "off"],
    ["aliases", (s.aliases || []).join(", ") || "-"],
  ];
  if (s.code_digest) overview.push(["code digest", `${s.code_digest} (by ${s.code_registered_by})`]);
  out.push(["Overview", ["field", "value"], overview]);
  const inputs = s.signature?.inputs || [];
  if (inputs.length)
    out.push(["Signature", ["input", "type"], inputs.map((c) => [c.name ?? "", c.type ?? ""])]);
  out.push([
    "Approvals",
    ["status", "by", "at", "reason"],
    card.approvals.map((a) => [a.status, a.principal, fmtTime(a.decided_at), a.reason || ""]),
  ]);
  const r = card.training;
  if (r) {
    out.push([
      "Training",
      ["field", "value"],
      [
        ["run", `${r.run_name} (${r.run_id})`],
        ["experiment", r.experiment],
        ["trained by", r.trained_by],
        ["ran", `${fmtTime(r.started_at)} to ${r.ended_at ? fmtTime(r.ended_at) : "not ended"}`],
      ],
    ]);
    out.push(["Parameters", ["name", "value"], Object.entries(r.params)]);
    out.push([
      "Metrics",
      ["name", "value"],
      Object.entries(r.metrics).map(([k, v]) => [k, num(v, 6)]),
    ]);
    out.push(["Code", ["file", "digest"], Object.entries(r.code)]);
  }
  out.push([
    "Training data",
    ["dataset", "rows", "columns", "digest", "contract", "validation"],
    card.data.map((d) => [
      d.ref,
      d.rows.toLocaleString("en-US"),
      Object.keys(d.columns).length,
      d.digest,
      d.contract || "none",
      d.validation
        ? `${d.validation}${d.failed_checks.length ? `: ${d.failed_checks.join(", ")}` : ""}`
        : "-",
    ]),
  ]);
  out.push([
    "Evaluations",
    ["data", "task", "rows", "metrics", "passed"],
    card.evaluations.map((e) => [
      e.data,
      e.task,
      e.rows.toLocaleString("en-US"),
      Object.entries(e.metrics)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => `${k}=${num(v, 4)}`)
        .join(", "),
      e.passed === null ? "-" : e.passed ? "yes" : "no",
    ]),
  ]);
  out.push([
    "Gate checks",
    ["stage", "passed", "by", "reason"],
    (s.gate_checks || []).map((g) => [g.stage, g.passed ? "yes" : "no", g.checked_by, g.reason]),
  ]);
  const labels = Object.fromEntries(card.lineage.nodes.map((n) => [n.id, `${n.kind} ${n.label}`]));
  out.push([
    "Lineage",
    ["from", "to"],
    card.lineage.edges.map(([a, b]) => [labels[a] || a, labels[b] || b]),
  ]);
  return out;
}

/** Who may not approve under the four-eyes rule, and where the version stands. */
function fourEyes(card) {
  const s = card.summary;
  if (!card.four_eyes)
    return h("p", { class: "four-eyes" }, badge("off"), " Four-eyes rule off: anyone allowed to approve may.");
  const excluded = [
    ...new Set([s.created_by, card.training?.trained_by, s.code_registered_by].filter(Boolean)),
  ];
  const waiting = s.approval === "PendingManualApproval";
  return h(
    "p",
    { class: "four-eyes" },
    badge("on", "passed"),
    ` Four-eyes rule on: ${excluded.join(", ")} (who registered, trained or registered its code) may not approve it.`,
    waiting ? " Waiting for a second person's approval." : ` Decision: ${s.approval}${s.approval_by ? ` by ${s.approval_by}` : ""}.`,
  );
}

/** The card section's content for name@version. */
export async function modelCard(name, version) {
  const card = await get(`/models/${seg(name)}/versions/${version}/card`);
  return h(
    "div",
    { class: "model-card" },
    fourEyes(card),
    h("p", { class: "muted" }, `Generated ${fmtTime(card.generated_at)} from the platform's records.`),
    sections(card).map(([title, header, rows]) =>
      table(
        header.map((label, i) => ({ key: String(i), label, sortable: false })),
        rows.map((row) => Object.fromEntries(row.map((cell, i) => [String(i), String(cell ?? "")]))),
        { caption: title, empty: `${title}: none.` },
      ),
    ),
  );
}
