// Access: the principals and policies lists, a principal's keys (listed and revoked, a new key
// shown once) and the policy simulator. A principal's page is in principal.js, groups in
// groups.js, roles in roles.js, a policy's page (its versions) in policies.js.

import { ApiError, del, get, getAll, post, seg, unrouted } from "../api.js";
import {
  badge,
  fmtTime,
  h,
  link,
  notice,
  route,
  section,
  table,
} from "../dom.js";
import { page, part, actionMessage } from "../router.js";
import { pagedTable } from "../paging.js";
import { shownOnce } from "../acting.js";
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
      " · ",
      link("#/groups", "Groups"),
      " · ",
      link("#/roles", "Roles"),
    ),
    section("Principals", principals),
    section("Policies", policies),
  ];
});

// A principal's keys: ids and times only (the server never returns a secret), each active
// key with a Revoke button that asks once more before it acts.
export function keyList(principal) {
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
            key: "expires_at",
            label: "Expires",
            render: (k) => (k.expires_at ? fmtTime(k.expires_at) : "never"),
          },
          {
            key: "assumed_by",
            label: "Session of",
            render: (k) => k.assumed_by || "",
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

export function keyForm(principal, onCreated) {
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
      const shown = shownOnce(key.token, "new-key", "New API key", `Key id ${key.key_id}.`);
      out.replaceChildren(shown);
      shown.querySelector(".token").select();
      await onCreated();
    } catch (error) {
      out.replaceChildren(notice("error", actionMessage(`create a key for ${principal}`, error)));
    } finally {
      button.disabled = false;
    }
  });
  return h("div", {}, button, out);
}

/** A policy named by the simulator: "POLICY", or "GROUP/POLICY" when a group passes it on. */
function policyRef(name) {
  const [group, policy] = name.includes("/") ? name.split("/", 2) : [null, name];
  const own = link(route("policies", policy), policy, { class: "policy-ref" });
  return group ? [link(route("groups", group), group), "/", own] : own;
}

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
  // Condition keys for the simulated request (sy:SourceIp, sy:CurrentTime...), one row
  // each; a key given on several rows is sent as a list of values.
  const rows = h("div", { class: "context-rows" });
  const addRow = () => {
    const n = rows.children.length;
    rows.append(
      h(
        "div",
        { class: "context-row" },
        h("input", {
          id: `sim-context-key-${n}`,
          class: "context-key",
          "aria-label": `Condition key ${n + 1}`,
          placeholder: "sy:SourceIp",
        }),
        h("input", {
          id: `sim-context-value-${n}`,
          class: "context-value",
          "aria-label": `Value ${n + 1}`,
          placeholder: "10.0.0.7",
        }),
      ),
    );
  };
  addRow();
  const more = h("button", { type: "button", id: "sim-context-add" }, "Add a condition key");
  more.addEventListener("click", addRow);
  const contextOf = () => {
    const found = {};
    for (const row of rows.children) {
      const key = row.querySelector(".context-key").value.trim();
      const value = row.querySelector(".context-value").value;
      if (!key) continue;
      const before = found[key];
      found[key] = before === undefined ? value : [].concat(before, value);
    }
    return found;
  };
  const form = h(
    "form",
    { class: "stack-form", "aria-label": "Policy simulator" },
    h("label", { for: "sim-principal" }, "Principal"),
    principal,
    h("label", { for: "sim-action" }, "Action"),
    action,
    h("label", { for: "sim-resource" }, "Resource"),
    resource,
    h(
      "fieldset",
      {},
      h("legend", {}, "Request context (optional condition keys)"),
      rows,
      more,
    ),
    h("button", { type: "submit", class: "primary" }, "Simulate"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const context = contextOf();
      const decision = await post(SIMULATE_PATH, {
        principal: principal.value.trim(),
        action: action.value.trim(),
        resource: resource.value.trim(),
        ...(Object.keys(context).length ? { context } : {}),
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
                  policyRef(deciding.policy),
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
                    render: (m) => policyRef(m.policy),
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
          (decision.unmet || []).length
            ? table(
                [
                  {
                    key: "policy",
                    label: "Policy",
                    render: (m) => policyRef(m.policy),
                  },
                  { key: "index", label: "Statement", numeric: true, render: (m) => m.index + 1 },
                  { key: "sid", label: "Sid", render: (m) => m.sid || "" },
                  { key: "effect", label: "Effect", render: (m) => m.effect },
                  { key: "condition", label: "Condition that does not hold" },
                ],
                decision.unmet,
                { caption: "Statements whose condition does not hold" },
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
