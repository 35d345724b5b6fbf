// Groups (members and the policies they pass on) and roles (who may assume them, their
// policies, the longest session), each a list and a page.

import { del, get, getAll, post, seg } from "../api.js";
import { badge, empty, facts, fmtTime, h, link, pre, route, section, table } from "../dom.js";
import { page } from "../router.js";
import { actionForm, field, valueOf } from "../acting.js";

/** The longest role session the server issues (security/_roles.py MAX_SESSION). */
const MAX_SESSION = "12 hours";

const names = (items, kind) =>
  items.length ? items.map((n, i) => [i ? ", " : "", link(route(kind, n), n)]) : "none";

page("groups", "list groups", async ({ rerender }) => {
  const groups = await get("/groups");
  return [
    h("h1", {}, "Groups"),
    h("p", {}, "A member holds the policies attached to its groups (its boundary still caps them)."),
    table(
      [
        { key: "name", label: "Group", render: (g) => link(route("groups", g.name), g.name) },
        { key: "members", label: "Members", sortable: false, render: (g) => g.members.join(", ") },
        {
          key: "policies",
          label: "Policies",
          sortable: false,
          render: (g) => g.policies.join(", "),
        },
        { key: "created_at", label: "Created", render: (g) => fmtTime(g.created_at) },
      ],
      groups,
      { empty: "No groups yet.", rowHref: (g) => route("groups", g.name) },
    ),
    actionForm(
      "Create group",
      "create a group",
      field("group-new", "Name", { required: true }),
      (form) => post("/groups", { group: valueOf(form, "group-new") }),
      rerender,
      { class: ["inline-form", "group-create"] },
    ),
  ];
});

page("groups/:name", "view this group", async ({ params, rerender }) => {
  const group = (await get("/groups")).find((g) => g.name === params.name);
  if (!group) return [h("h1", {}, params.name), empty("No such group.")];
  const base = `/groups/${seg(group.name)}`;
  const remove = (what, path) => (row) =>
    actionForm("Remove", what(row), [], () => del(path(row)), rerender, {
      class: ["inline-form", "remove"],
    });
  return [
    h("h1", {}, `Group ${group.name}`),
    facts([["Created", fmtTime(group.created_at)]]),
    section(
      "Members",
      table(
        [
          { key: "name", label: "Principal", render: (m) => link(route("principals", m.name), m.name) },
          {
            key: "remove",
            label: "",
            sortable: false,
            render: remove(
              (m) => `remove ${m.name} from ${group.name}`,
              (m) => `${base}/members/${seg(m.name)}`,
            ),
          },
        ],
        group.members.map((name) => ({ name })),
        { empty: "No members." },
      ),
      actionForm(
        "Add member",
        `add a member to ${group.name}`,
        field("member-new", "Principal", { required: true }),
        (form) => post(`${base}/members`, { principal: valueOf(form, "member-new") }),
        rerender,
        { class: ["inline-form", "member-add"] },
      ),
    ),
    section(
      "Policies",
      table(
        [
          { key: "name", label: "Policy", render: (p) => link(route("policies", p.name), p.name) },
          {
            key: "remove",
            label: "",
            sortable: false,
            render: remove(
              (p) => `detach ${p.name} from ${group.name}`,
              (p) => `${base}/policies/${seg(p.name)}`,
            ),
          },
        ],
        group.policies.map((name) => ({ name })),
        { empty: "No policies: its members get nothing from it." },
      ),
      actionForm(
        "Attach policy",
        `attach a policy to ${group.name}`,
        field("policy-new", "Policy", { required: true }),
        (form) => post(`${base}/policies`, { policy: valueOf(form, "policy-new") }),
        rerender,
        { class: ["inline-form", "policy-attach"] },
      ),
    ),
  ];
});

const roleList = async () => (await getAll("/principals")).filter((p) => p.kind === "role");

const trusted = (role) =>
  (role.trust_policy?.Statement || [])
    .filter((s) => s.Effect === "Allow")
    .flatMap((s) => s.Principal || []);

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
  ];
});

page("roles/:name", "view this role", async ({ params }) => {
  const role = (await roleList()).find((r) => r.name === params.name);
  if (!role) return [h("h1", {}, params.name), empty("No such role.")];
  return [
    h("h1", {}, `Role ${role.name}`, " ", badge(role.disabled ? "disabled" : "active")),
    facts([
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
          { key: "Principal", label: "Principals", sortable: false, render: (s) => s.Principal.join(", ") },
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
