// The audit log: filtered and paged on the server (by id, newest first), and a Verify
// button that checks its hash chain and signed checkpoints (audit:VerifyLog).

import { get, post } from "../api.js";

import { badge, filterBox, fmtTime, h, link, notice, table } from "../dom.js";
import { actionMessage, page, setQuery } from "../router.js";

const count = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

function verdictText(v) {
  const last = v.last_checkpoint;
  const signed = last
    ? `last checkpoint seq ${last.seq} at ${fmtTime(last.time)}`
    : "no checkpoint yet";
  if (v.ok)
    return `Intact: ${count(v.events, "event")} chained, ${count(v.checkpoints, "signed checkpoint")}, ${signed}; ${v.unsealed} not yet sealed.`;
  const bad = v.first_bad;
  return `Broken at seq ${bad.seq}${bad.event_id == null ? "" : ` (event #${bad.event_id})`}: ${bad.problem}. ${count(v.events, "event")} intact before it.`;
}

function verifyButton() {
  const out = h("div", { class: "form-status", id: "audit-verdict", "aria-live": "polite" });
  const button = h("button", { type: "button", class: "primary" }, "Verify");
  button.addEventListener("click", async () => {
    button.disabled = true;
    out.replaceChildren(notice("ok", "Verifying…"));
    try {
      const verdict = await post("/audit/verify");
      out.replaceChildren(notice(verdict.ok ? "ok" : "error", verdictText(verdict)));
    } catch (error) {
      out.replaceChildren(notice("error", actionMessage("verify the audit log", error)));
    } finally {
      button.disabled = false;
    }
  });
  return h(
    "div",
    { class: "toolbar" },
    button,
    " Recompute the hash chain and check every signed checkpoint.",
    out,
  );
}

page("audit", "read the audit log", async ({ query }) => {
  const limit = 100;
  let since;
  if (query.since) {
    const date = new Date(query.since);
    if (!Number.isNaN(date.getTime())) since = date.toISOString();
  }
  const events = await get("/audit", {
    principal: query.principal,
    action: query.action,
    resource_prefix: query.resource,
    outcome: query.outcome,
    since,
    before_id: query.before,
    limit,
  });
  return [
    h("h1", {}, "Audit log"),
    verifyButton(),
    h(
      "form",
      { class: "toolbar", onsubmit: (e) => e.preventDefault() },
      filterBox("Principal", query.principal, (principal) =>
        setQuery({ ...query, principal, before: "" }),
      ),
      filterBox(
        "Action",
        query.action,
        (action) => setQuery({ ...query, action, before: "" }),
        "registry:UpdateApproval",
      ),
      filterBox(
        "Resource starts with",
        query.resource,
        (resource) => setQuery({ ...query, resource, before: "" }),
        "sy:model/",
      ),
      h("label", { for: "outcome-pick" }, "Outcome"),
      h(
        "select",
        {
          id: "outcome-pick",
          onchange: (e) => setQuery({ ...query, outcome: e.target.value, before: "" }),
        },
        ["", "succeeded", "failed", "denied"].map((v) =>
          h("option", { value: v, selected: (query.outcome || "") === v }, v || "any"),
        ),
      ),
      filterBox(
        "Since",
        query.since,
        (value) => setQuery({ ...query, since: value, before: "" }),
        "2026-12-01T00:00",
      ),
    ),
    table(
      [
        { key: "id", label: "#", numeric: true },
        { key: "time", label: "Time", render: (e) => fmtTime(e.time) },
        {
          key: "principal",
          label: "Principal",
          render: (e) =>
            link(
              `#/audit?${new URLSearchParams({ ...query, principal: e.principal })}`,
              e.principal,
            ),
        },
        {
          key: "action",
          label: "Action",
          render: (e) =>
            link(`#/audit?${new URLSearchParams({ ...query, action: e.action })}`, e.action),
        },
        { key: "resource", label: "Resource" },
        { key: "outcome", label: "Outcome", render: (e) => badge(e.outcome) },
        {
          key: "detail",
          label: "Detail",
          sortable: false,
          render: (e) => (Object.keys(e.detail || {}).length ? JSON.stringify(e.detail) : ""),
        },
      ],
      events,
      {
        sort: { key: "id", desc: true },
        empty: "No events match.",
        caption: `newest ${events.length} events (filtered on the server)`,
      },
    ),
    h(
      "p",
      { class: "pager" },
      query.before
        ? link(`#/audit?${new URLSearchParams({ ...query, before: "" })}`, "Newest")
        : null,
      " ",
      events.length === limit
        ? link(
            `#/audit?${new URLSearchParams({ ...query, before: events[events.length - 1].id })}`,
            "Older events",
            { rel: "next" },
          )
        : null,
    ),
  ];
});
