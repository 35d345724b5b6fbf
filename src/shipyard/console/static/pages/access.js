// Access: principals (policies, their keys listed and revoked, a new key shown once), policies (documents) and the policy
// simulator.

import { ApiError, del, get, getAll, post, seg, unrouted } from "../api.js";
import {
  badge,
  empty,
  facts,
  fmtTime,
  h,
  link,
  notice,
  pre,
  route,
  section,
  table,
} from "../dom.js";
import { page, part, actionMessage } from "../router.js";
import { pagedTable } from "../paging.js";
page("principals", "list principals", async () => {
  const [principals, policies] = await Promise.all([
    pagedTable(
      "/principals",
      {},
      [
        {
          key: "name",
          label: "Principal",
          render: (p) => link(route("principals", p.name), p.name),
        },
        { key: "kind", label: "Kind" },
        {
          key: "disabled",
          label: "Status",
          render: (p) => badge(p.disabled ? "disabled" : "active"),
        },
        {
          key: "policies",
          label: "Policies",
          sortable: false,
          render: (p) => (p.policies || []).join(", "),
        },
        { key: "created_at", label: "Created", render: (p) => fmtTime(p.created_at) },
      ],
      { sort: { key: "name", desc: false }, rowHref: (p) => route("principals", p.name) },
    ),
    part("list policies", async () =>
      pagedTable(
        "/policies",
        {},
        [
          { key: "name", label: "Policy", render: (p) => link(route("policies", p.name), p.name) },
          {
            key: "statements",
            label: "Statements",
            numeric: true,
            value: (p) => (p.document?.Statement || []).length,
            render: (p) => (p.document?.Statement || []).length,
          },
          { key: "created_at", label: "Created", render: (p) => fmtTime(p.created_at) },
        ],
        { rowHref: (p) => route("policies", p.name) },
      ),
    ),
  ]);
  return [
    h("h1", {}, "Principals, keys and policies"),
    h(
      "p",
      {},
      link("#/simulator", "Policy simulator: may a principal do an action on a resource?"),
    ),
    section("Principals", principals),
    section("Policies", policies),
  ];
});

// A principal's keys: ids and times only (the server never returns a secret), each active
// key with a Revoke button that asks once more before it acts.
function keyList(principal) {
  const box = h("div", { class: "key-list" });
  const status = h("div", { class: "form-status", "aria-live": "polite" });
  const revokeCell = (key) => {
    if (key.revoked) return "";
    const cell = h("span", { class: "revoke" });
    const ask = h("button", { type: "button", class: "danger" }, "Revoke");
    ask.addEventListener("click", () => {
      const yes = h("button", { type: "button", class: "danger confirm" }, "Yes, revoke");
      const no = h("button", { type: "button" }, "Cancel");
      no.addEventListener("click", () => cell.replaceChildren(ask));
      yes.addEventListener("click", async () => {
        yes.disabled = no.disabled = true;
        try {
          await del(`/keys/${seg(key.key_id)}`);
          await refresh();
          status.replaceChildren(notice("ok", `Key ${key.key_id} revoked.`));
        } catch (error) {
          yes.disabled = no.disabled = false;
          status.replaceChildren(
            notice("error", actionMessage(`revoke key ${key.key_id}`, error)),
          );
        }
      });
      cell.replaceChildren(`Revoke ${key.key_id}? It stops working at once. `, yes, " ", no);
    });
    cell.append(ask);
    return cell;
  };
  const refresh = async () => {
    const keys = await getAll(`/principals/${seg(principal)}/keys`);
    box.replaceChildren(
      table(
        [
          { key: "key_id", label: "Key id", render: (k) => h("code", {}, k.key_id) },
          { key: "prefix", label: "Starts with", render: (k) => h("code", {}, `${k.prefix}…`) },
          { key: "created_at", label: "Created", render: (k) => fmtTime(k.created_at) },
          { key: "created_by", label: "Issued by", render: (k) => k.created_by || "" },
          {
            key: "last_used_at",
            label: "Last used",
            render: (k) => (k.last_used_at ? fmtTime(k.last_used_at) : "never"),
          },
          {
            key: "revoked",
            label: "State",
            render: (k) =>
              k.revoked ? [badge("revoked"), ` ${fmtTime(k.revoked_at)}`] : badge("active"),
          },
          { key: "revoke", label: "", render: revokeCell },
        ],
        [...keys].reverse(),
        { empty: "No keys." },
      ),
    );
  };
  return { node: h("div", {}, box, status), refresh };
}

function keyForm(principal, onCreated) {
  const out = h("div", { class: "form-status", "aria-live": "polite" });
  const button = h(
    "button",
    { type: "button", class: "primary" },
    `Create an API key for ${principal}`,
  );
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const key = await post(`/principals/${seg(principal)}/keys`);
      const token = h("input", {
        id: "new-key",
        class: "token",
        readonly: true,
        value: key.token,
        "aria-label": "New API key",
      });
      out.replaceChildren(
        h(
          "div",
          { class: "key-once", role: "status" },
          h(
            "p",
            {},
            h("strong", {}, "Copy this key now: it is shown once and cannot be read again."),
            ` Key id ${key.key_id}.`,
          ),
          token,
          h(
            "button",
            {
              type: "button",
              onclick: () => {
                token.select();
                navigator.clipboard?.writeText(key.token);
              },
            },
            "Copy",
          ),
        ),
      );
      token.select();
      await onCreated();
    } catch (error) {
      out.replaceChildren(notice("error", actionMessage(`create a key for ${principal}`, error)));
    } finally {
      button.disabled = false;
    }
  });
  return h("div", {}, button, out);
}

page("principals/:name", "view this principal", async ({ params }) => {
  const principals = await getAll("/principals");
  const principal = principals.find((p) => p.name === params.name);
  if (!principal) return [h("h1", {}, params.name), empty("No such principal.")];
  const keys = keyList(principal.name);
  const listed = await part("read this principal's API keys", async () => {
    await keys.refresh();
    return keys.node;
  });
  const events = await part("read this principal's audit events", async () =>
    table(
      [
        { key: "time", label: "Time", render: (e) => fmtTime(e.time) },
        { key: "action", label: "Action" },
        { key: "resource", label: "Resource" },
        { key: "outcome", label: "Outcome", render: (e) => badge(e.outcome) },
      ],
      await get("/audit", { principal: principal.name, limit: 20 }),
      { empty: "No events." },
    ),
  );
  return [
    h("h1", {}, principal.name, " ", badge(principal.disabled ? "disabled" : "active")),
    facts([
      ["Kind", principal.kind],
      ["Created", fmtTime(principal.created_at)],
      [
        "Policies",
        h(
          "span",
          {},
          (principal.policies || []).map((p) => [link(route("policies", p), p), " "]),
        ),
      ],
    ]),
    section(
      "API keys",
      h("p", { class: "muted" }, "Keys are stored hashed; a new key's secret is shown once."),
      keyForm(principal.name, () => keys.refresh().catch(() => undefined)),
      listed,
    ),
    section(
      "Try its permissions",
      link(
        `#/simulator?principal=${encodeURIComponent(principal.name)}`,
        "Open the policy simulator for this principal",
      ),
    ),
    section("Recent activity", events),
  ];
});

page("policies/:name", "view this policy", async ({ params }) => {
  const policies = await getAll("/policies");
  const policy = policies.find((p) => p.name === params.name);
  if (!policy) return [h("h1", {}, params.name), empty("No such policy.")];
  return [
    h("h1", {}, `Policy ${policy.name}`),
    facts([["Created", fmtTime(policy.created_at)]]),
    section(
      "Statements",
      table(
        [
          { key: "Sid", label: "Sid" },
          {
            key: "Effect",
            label: "Effect",
            render: (s) => badge(s.Effect, s.Effect === "Allow" ? "passed" : "failed"),
          },
          {
            key: "Action",
            label: "Actions",
            sortable: false,
            render: (s) => [].concat(s.Action || []).join(", "),
          },
          {
            key: "Resource",
            label: "Resources",
            sortable: false,
            render: (s) => [].concat(s.Resource || []).join(", "),
          },
        ],
        policy.document?.Statement || [],
      ),
    ),
    section("Document", pre(policy.document)),
  ];
});

/** Where the server answers "may P do A on R?" (a console-support operation). */
export const SIMULATE_PATH = "/policy-simulations";

page("simulator", "use the policy simulator", async ({ query }) => {
  const result = h("div", { "aria-live": "polite" });
  const principal = h("input", {
    id: "sim-principal",
    required: true,
    value: query.principal || "",
  });
  const action = h("input", {
    id: "sim-action",
    required: true,
    value: query.action || "",
    placeholder: "registry:UpdateApproval",
  });
  const resource = h("input", {
    id: "sim-resource",
    required: true,
    value: query.resource || "",
    placeholder: "sy:model/churn/3",
  });
  const form = h(
    "form",
    { class: "stack-form", "aria-label": "Policy simulator" },
    h("label", { for: "sim-principal" }, "Principal"),
    principal,
    h("label", { for: "sim-action" }, "Action"),
    action,
    h("label", { for: "sim-resource" }, "Resource"),
    resource,
    h("button", { type: "submit", class: "primary" }, "Simulate"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const decision = await post(SIMULATE_PATH, {
        principal: principal.value.trim(),
        action: action.value.trim(),
        resource: resource.value.trim(),
      });
      const allowed = decision.decision === "allow";
      const deciding = decision.deciding;
      result.replaceChildren(
        h(
          "div",
          { class: ["decision", allowed ? "decision-allow" : "decision-deny"], role: "status" },
          h(
            "p",
            {},
            badge(decision.decision.replace("_", " "), allowed ? "passed" : "failed"),
            " ",
            `${decision.principal} ${allowed ? "may" : "may not"} ${decision.action} on ${decision.resource}`,
          ),
          h(
            "p",
            {},
            deciding
              ? [
                  "Decided by ",
                  link(route("policies", deciding.policy), deciding.policy),
                  ` statement ${deciding.index + 1}${deciding.sid ? ` (${deciding.sid})` : ""}: ${deciding.effect}.`,
                ]
              : "No statement applies: denied by default.",
          ),
          (decision.matched || []).length
            ? table(
                [
                  {
                    key: "policy",
                    label: "Policy",
                    render: (m) => link(route("policies", m.policy), m.policy),
                  },
                  { key: "index", label: "Statement", numeric: true, render: (m) => m.index + 1 },
                  { key: "sid", label: "Sid", render: (m) => m.sid || "" },
                  {
                    key: "effect",
                    label: "Effect",
                    render: (m) => badge(m.effect, m.effect === "Allow" ? "passed" : "failed"),
                  },
                ],
                decision.matched,
                { caption: "Statements that apply" },
              )
            : null,
        ),
      );
    } catch (error) {
      const missing = unrouted(error) || (error instanceof ApiError && error.status === 405);
      result.replaceChildren(
        notice(
          "error",
          missing
            ? "This server has no policy simulation operation."
            : actionMessage("simulate policies", error),
        ),
      );
    }
  });
  return [
    h("h1", {}, "Policy simulator"),
    h(
      "p",
      {},
      "Asks the server whether a principal's attached policies allow an action on a resource; nothing is done.",
    ),
    form,
    result,
  ];
});
