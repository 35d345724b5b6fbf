// A principal's page: state, tags, groups, policies, boundary, keys (expiry, last use), rate
// limits and quota, with the writes an administrator makes there, deleting it too. Every
// write is the API's own operation, authorized as it is for any other caller.

import { del, get, getAll, post, put, seg } from "../api.js";
import { badge, empty, facts, fmtTime, h, link, route, section, table } from "../dom.js";
import { page, part } from "../router.js";
import { actionForm, confirmAction, field, keyValue, valueOf } from "../acting.js";
import { keyForm, keyList } from "./access.js";

const links = (names, kind) =>
  names.length ? names.map((n, i) => [i ? ", " : "", link(route(kind, n), n)]) : "none";

function statusAction(principal, rerender) {
  const disabled = principal.disabled;
  const verb = disabled ? "enable" : "disable";
  return actionForm(
    disabled ? "Enable" : "Disable",
    `${verb} ${principal.name}`,
    [
      h(
        "span",
        { class: "muted" },
        disabled
          ? "Disabled: its keys are refused until it is enabled again. "
          : "Disabling refuses all its keys at once (they are kept). ",
      ),
    ],
    () => post(`/principals/${seg(principal.name)}/${verb}`),
    rerender,
    { class: ["inline-form", "principal-status"], "aria-label": `${verb} principal` },
  );
}

function deleteAction(principal) {
  return confirmAction(
    "Delete principal",
    "Yes, delete",
    `delete ${principal.name}`,
    `Delete ${principal.name} with its keys, console sessions, tags, group memberships and ` +
      "policy attachments? Its keys stop working at once; the audit log keeps its name.",
    async () => {
      await del(`/principals/${seg(principal.name)}`);
      location.hash = "#/principals";
    },
    { class: ["inline-form", "principal-delete"], "aria-label": "delete principal" },
  );
}

function tagPanel(principal, rerender) {
  const tags = Object.entries(principal.tags || {});
  const path = `/principals/${seg(principal.name)}/tags`;
  const rows = table(
    [
      { key: "key", label: "Key", render: (t) => h("code", {}, t.key) },
      { key: "value", label: "Value" },
      {
        key: "remove",
        label: "",
        sortable: false,
        render: (t) =>
          actionForm(
            "Remove",
            `untag ${principal.name}`,
            [],
            () => del(path, { keys: t.key }),
            rerender,
            { class: ["inline-form", "untag"], "data-key": t.key },
          ),
      },
    ],
    tags.map(([key, value]) => ({ key, value })),
    { empty: "No tags." },
  );
  const add = actionForm(
    "Add tag",
    `tag ${principal.name}`,
    field("tag-new", "Tag", { placeholder: "team=ml", required: true }),
    async (form) => {
      const [key, value] = keyValue(valueOf(form, "tag-new"), "tag");
      await put(path, { tags: { [key]: value } });
    },
    rerender,
    { class: ["inline-form", "tag-add"] },
  );
  return h("div", { class: "tags" }, rows, add);
}

function groupPanel(principal, groups, rerender) {
  const mine = groups.filter((g) => g.members.includes(principal.name));
  const others = groups.filter((g) => !g.members.includes(principal.name));
  const memberships = mine.length
    ? mine.map((g, i) => [
        i ? ", " : "",
        link(route("groups", g.name), g.name),
        g.policies.length ? ` (passes on ${g.policies.join(", ")})` : " (no policies)",
      ])
    : "none";
  const choose = h(
    "select",
    { id: "group-choice", required: true },
    others.map((g) => h("option", { value: g.name }, g.name)),
  );
  return h(
    "div",
    { class: "groups" },
    h("p", {}, "Member of: ", memberships),
    others.length
      ? actionForm(
          "Add to group",
          `add ${principal.name} to a group`,
          [h("label", { for: "group-choice" }, "Group"), choose],
          () => post(`/groups/${seg(choose.value)}/members`, { principal: principal.name }),
          rerender,
          { class: ["inline-form", "group-add"] },
        )
      : null,
  );
}

function policyPanel(principal, rerender) {
  const base = `/principals/${seg(principal.name)}`;
  const rows = table(
    [
      { key: "name", label: "Policy", render: (p) => link(route("policies", p.name), p.name) },
      {
        key: "detach",
        label: "",
        sortable: false,
        render: (p) =>
          actionForm(
            "Detach",
            `detach ${p.name} from ${principal.name}`,
            [],
            () => del(`${base}/policies/${seg(p.name)}`),
            rerender,
            { class: ["inline-form", "detach"], "data-policy": p.name },
          ),
      },
    ],
    (principal.policies || []).map((name) => ({ name })),
    { empty: "No policies of its own." },
  );
  const attach = actionForm(
    "Attach policy",
    `attach a policy to ${principal.name}`,
    field("policy-attach", "Policy", { required: true }),
    (form) => post(`${base}/policies`, { policy: valueOf(form, "policy-attach") }),
    rerender,
    { class: ["inline-form", "policy-attach"] },
  );
  const boundary = principal.boundary
    ? actionForm(
        "Remove boundary",
        `remove the boundary of ${principal.name}`,
        [h("span", {}, "Boundary ", link(route("policies", principal.boundary), principal.boundary), ". ")],
        () => del(`${base}/boundary`),
        rerender,
        { class: ["inline-form", "boundary-remove"] },
      )
    : actionForm(
        "Set boundary",
        `set the boundary of ${principal.name}`,
        field("boundary-policy", "Boundary policy", { required: true }),
        (form) => put(`${base}/boundary`, { policy: valueOf(form, "boundary-policy") }),
        rerender,
        { class: ["inline-form", "boundary-set"] },
      );
  return h("div", { class: "policies" }, rows, attach, boundary);
}

function limitsPanel(principal, limits, rerender) {
  const shown = (value) => (value === null || value === undefined ? "unlimited" : value);
  const number = (form, id, integer) => {
    const text = valueOf(form, id);
    if (!text) return null;
    const value = Number(text);
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value)))
      throw new Error(`${id.replace("limit-", "").replace("-", "_")}: not a number: ${text}`);
    return value;
  };
  return h(
    "div",
    { class: "limits" },
    facts([
      ["Requests per second", shown(limits.requests_per_second)],
      ["Burst", shown(limits.burst)],
      ["Daily quota", shown(limits.daily_quota)],
      ["Requests today", limits.requests_today],
      ["Source", limits.own ? `its own, set by ${limits.updated_by || "?"}` : "the defaults"],
    ]),
    actionForm(
      "Set limits",
      `set the limits of ${principal.name}`,
      [
        field("limit-rate", "Rate (req/s)", { type: "number", min: "0", step: "any" }),
        field("limit-burst", "Burst", { type: "number", min: "1", step: "1" }),
        field("limit-quota", "Daily quota", { type: "number", min: "0", step: "1" }),
      ],
      (form) =>
        put(`/principals/${seg(principal.name)}/limits`, {
          requests_per_second: number(form, "limit-rate", false),
          burst: number(form, "limit-burst", true),
          daily_quota: number(form, "limit-quota", true),
        }),
      rerender,
      { class: ["inline-form", "limits-set"] },
    ),
  );
}

page("principals/:name", "view this principal", async ({ params, rerender }) => {
  const principals = await getAll("/principals");
  const principal = principals.find((p) => p.name === params.name);
  if (!principal) return [h("h1", {}, params.name), empty("No such principal.")];
  const keys = keyList(principal.name);
  const base = `/principals/${seg(principal.name)}`;
  const [listed, groups, limits, events] = await Promise.all([
    part("read this principal's API keys", async () => {
      await keys.refresh();
      return keys.node;
    }),
    part("list groups", async () => groupPanel(principal, await getAll("/groups"), rerender)),
    part("read this principal's limits", async () =>
      limitsPanel(principal, await get(`${base}/limits`), rerender),
    ),
    part("read this principal's audit events", async () =>
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
    ),
  ]);
  return [
    h("h1", {}, principal.name, " ", badge(principal.disabled ? "disabled" : "active")),
    facts([
      ["Kind", principal.kind],
      ["Created", fmtTime(principal.created_at)],
      ["Policies", h("span", { class: "attached" }, links(principal.policies || [], "policies"))],
      [
        "Permission boundary",
        principal.boundary ? link(route("policies", principal.boundary), principal.boundary) : "none",
      ],
      ["Trust policy", principal.kind === "role" ? link(route("roles", principal.name), "see the role") : ""],
    ]),
    statusAction(principal, rerender),
    section("Tags", tagPanel(principal, rerender)),
    section("Policies and boundary", policyPanel(principal, rerender)),
    section("Groups", groups),
    section(
      "API keys",
      h("p", { class: "muted" }, "Keys are stored hashed; a new key's secret is shown once."),
      keyForm(principal.name, () => keys.refresh().catch(() => undefined)),
      listed,
    ),
    section("Rate limits and quota", limits),
    section(
      "Try its permissions",
      link(
        `#/simulator?principal=${encodeURIComponent(principal.name)}`,
        "Open the policy simulator for this principal",
      ),
    ),
    section("Recent activity", events),
    section("Delete", deleteAction(principal)),
  ];
});
