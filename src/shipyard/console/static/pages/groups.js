// Groups: the members and the policies they pass on, a list (a page at a time) and a page,
// created and deleted. Roles are in roles.js.

import { del, getAll, post, seg } from "../api.js";
import { empty, facts, fmtTime, h, link, route, section, table } from "../dom.js";
import { page } from "../router.js";
import { pagedTable } from "../paging.js";
import { actionForm, confirmAction, field, valueOf } from "../acting.js";

page("groups", "list groups", async ({ rerender }) => {
  const groups = await pagedTable(
    "/groups",
    {},
    [
      { key: "name", label: "Group", render: (g) => link(route("groups", g.name), g.name) },
      { key: "members", label: "Members", sortable: false, render: (g) => g.members.join(", ") },
      { key: "policies", label: "Policies", sortable: false, render: (g) => g.policies.join(", ") },
      { key: "created_at", label: "Created", render: (g) => fmtTime(g.created_at) },
    ],
    { empty: "No groups yet.", rowHref: (g) => route("groups", g.name) },
  );
  return [
    h("h1", {}, "Groups"),
    h("p", {}, "A member holds the policies attached to its groups (its boundary still caps them)."),
    groups,
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

function deleteGroup(group) {
  const members = group.members.length;
  return confirmAction(
    "Delete group",
    "Yes, delete",
    `delete ${group.name}`,
    `Delete ${group.name}? ${
      members === 1 ? "Its 1 member loses" : members ? `Its ${members} members lose` : "Nobody loses"
    } its policies at once; the principals and policies themselves stay.`,
    async () => {
      await del(`/groups/${seg(group.name)}`);
      location.hash = "#/groups";
    },
    { class: ["inline-form", "group-delete"], "aria-label": "delete group" },
  );
}

page("groups/:name", "view this group", async ({ params, rerender }) => {
  const group = (await getAll("/groups")).find((g) => g.name === params.name);
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
    section("Delete", deleteGroup(group)),
  ];
});
