// Roles: who may assume them (their trust policy), their policies and the longest session,
// a list and a page; created from a trust list, and assumed for a session whose key is
// shown once.

import { getAll, post, seg } from "../api.js";
import { badge, empty, facts, fmtTime, h, link, pre, route, section, table } from "../dom.js";
import { page, part } from "../router.js";
import { actionForm, field, shownOnce, valueOf } from "../acting.js";

/** The longest role session the server issues (security/_roles.py MAX_SESSION). */
const MAX_SESSION = "12 hours";

/** Session lengths offered when assuming a role. */
const DURATIONS = ["15m", "30m", "1h", "2h", "4h", "8h", "12h"];

const names = (items, kind) =>
  items.length ? items.map((n, i) => [i ? ", " : "", link(route(kind, n), n)]) : "none";

const roleList = async () => (await getAll("/principals")).filter((p) => p.kind === "role");

const trusted = (role) =>
  (role.trust_policy?.Statement || [])
    .filter((s) => s.Effect === "Allow")
    .flatMap((s) => s.Principal || []);

/**
 * The trust policy a new role gets from the form: one Allow statement naming the trusted
 * principals (names or patterns, split on commas and spaces), with the condition if given.
 * Throws an error naming the field when the text is not one.
 */
export function trustDocument(principalsText, conditionText) {
  const principals = principalsText.split(/[\s,]+/).filter(Boolean);
  if (!principals.length) throw new Error("trusts: name at least one principal (or pattern)");
  const statement = { Effect: "Allow", Principal: principals };
  if (conditionText.trim()) {
    let condition;
    try {
      condition = JSON.parse(conditionText);
    } catch (error) {
      throw new Error(`condition: not JSON: ${error.message}`);
    }
    if (condition === null || typeof condition !== "object" || Array.isArray(condition))
      throw new Error('condition: a JSON object, e.g. {"IpAddress": {"sy:SourceIp": "192.168.1.0/24"}}');
    statement.Condition = condition;
  }
  return { Statement: [statement] };
}

function createRole() {
  const condition = h("textarea", {
    id: "role-condition",
    rows: "3",
    placeholder: '{"IpAddress": {"sy:SourceIp": "192.168.1.0/24"}}',
  });
  const preview = h("pre", { class: "json trust-preview", "aria-live": "polite" });
  const fields = [
    field("role-new", "Name", { required: true }),
    field("role-trust", "Trusts", { required: true, placeholder: "ann, ci-*" }),
    h("label", { for: "role-condition" }, "Condition (JSON, optional)"),
    condition,
  ];
  const action = actionForm(
    "Create role",
    "create a role",
    fields,
    async (form) => {
      const role = valueOf(form, "role-new");
      const trust = trustDocument(valueOf(form, "role-trust"), condition.value);
      await post("/roles", { role, trust_policy: trust });
      location.hash = route("roles", role);
    },
    async () => undefined,
    { class: ["stack-form", "role-create"], "aria-label": "Create a role" },
  );
  const form = action.querySelector("form");
  const draw = () => {
    try {
      preview.textContent = JSON.stringify(
        trustDocument(form.querySelector("#role-trust").value, condition.value),
        null,
        2,
      );
    } catch (error) {
      preview.textContent = error.message;
    }
  };
  form.addEventListener("input", draw);
  draw();
  return h(
    "div",
    { class: "role-new" },
    action,
    h("p", { class: "muted" }, "Trust policy it gets:"),
    preview,
  );
}

page("roles", "list roles", async () => {
  const roles = await roleList();
  return [
    h("h1", {}, "Roles"),
    h(
      "p",
      {},
      `A role is a principal nobody holds a lasting key for: whoever its trust policy names assumes it for a session of at most ${MAX_SESSION} (shipyard roles assume ROLE).`,
    ),
    table(
      [
        { key: "name", label: "Role", render: (r) => link(route("roles", r.name), r.name) },
        { key: "trust", label: "Trusts", sortable: false, render: (r) => trusted(r).join(", ") },
        { key: "policies", label: "Policies", sortable: false, render: (r) => r.policies.join(", ") },
        { key: "disabled", label: "Status", render: (r) => badge(r.disabled ? "disabled" : "active") },
        { key: "created_at", label: "Created", render: (r) => fmtTime(r.created_at) },
      ],
      roles,
      { empty: "No roles yet.", rowHref: (r) => route("roles", r.name) },
    ),
    section("Create a role", createRole()),
  ];
});

/** "Assume role": a session key for the caller, shown once under the form. */
function assumeRole(name) {
  const out = h("div", { class: "session-key" });
  const duration = h(
    "select",
    { id: "assume-duration" },
    DURATIONS.map((d) => h("option", { value: d, selected: d === "1h" }, d)),
  );
  const action = actionForm(
    "Assume role",
    `assume ${name}`,
    [h("label", { for: "assume-duration" }, "Session length"), duration],
    async () => {
      out.replaceChildren();
      const key = await post(`/roles/${seg(name)}/sessions`, { duration: duration.value });
      const shown = shownOnce(
        key.token,
        "session-key",
        `Session key for ${name}`,
        `Session key for ${name}, expires ${fmtTime(key.expires_at)} UTC (key id ${key.key_id}).`,
        "Send it as the Bearer key of API calls, or sign in to the console with it.",
      );
      out.replaceChildren(shown);
      shown.querySelector(".token").select();
    },
    async () => {
      action.querySelector("button[type=submit]").disabled = false;
    },
    { class: ["inline-form", "assume-role"] },
  );
  return h("div", { class: "assume" }, action, out);
}

page("roles/:name", "view this role", async ({ params }) => {
  // Assuming needs no right to list principals: the form stays when the details are refused.
  const details = await part("view this role", async () => {
    const role = (await roleList()).find((r) => r.name === params.name);
    if (!role) return null;
    return [
      facts([
        ["Status", badge(role.disabled ? "disabled" : "active")],
        ["Created", fmtTime(role.created_at)],
        ["Policies", h("span", { class: "attached" }, names(role.policies, "policies"))],
        [
          "Permission boundary",
          role.boundary ? link(route("policies", role.boundary), role.boundary) : "none",
        ],
        ["Longest session", MAX_SESSION],
        ["Principal page", link(route("principals", role.name), "keys, tags and limits")],
      ]),
      section(
        "Trust policy",
        table(
          [
            { key: "Sid", label: "Sid" },
            {
              key: "Effect",
              label: "Effect",
              render: (s) => badge(s.Effect, s.Effect === "Allow" ? "passed" : "failed"),
            },
            {
              key: "Principal",
              label: "Principals",
              sortable: false,
              render: (s) => s.Principal.join(", "),
            },
            {
              key: "Condition",
              label: "Condition",
              sortable: false,
              render: (s) => (s.Condition ? JSON.stringify(s.Condition) : ""),
            },
          ],
          role.trust_policy?.Statement || [],
          { empty: "No statements: nobody may assume it." },
        ),
        pre(role.trust_policy || {}),
      ),
    ];
  });
  if (details === null) return [h("h1", {}, params.name), empty("No such role.")];
  return [
    h("h1", {}, `Role ${params.name}`),
    ...[details].flat(),
    section(
      "Assume role",
      h(
        "p",
        { class: "muted" },
        `A session key for you as ${params.name}, if its trust policy names you; it expires after the length chosen (at most ${MAX_SESSION}).`,
      ),
      assumeRole(params.name),
    ),
  ];
});
