// A policy's page: its statements, every version it has held (which one checks read), a
// line diff of any two versions, setting the default version and deleting the policy.

import { del, get, getAll, put, seg } from "../api.js";
import { badge, empty, facts, fmtTime, h, pre, section, table } from "../dom.js";
import { page, part } from "../router.js";
import { actionForm } from "../acting.js";

const text = (document) => JSON.stringify(document, null, 2).split("\n");

/** Line diff of two texts (longest common subsequence): [[" "|"-"|"+", line], ...]. */
export function lineDiff(before, after) {
  const n = before.length;
  const m = after.length;
  const common = Array.from({ length: n + 1 }, () => new Array(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      common[i][j] =
        before[i] === after[j]
          ? common[i + 1][j + 1] + 1
          : Math.max(common[i + 1][j], common[i][j + 1]);
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && before[i] === after[j]) {
      out.push([" ", before[i++]]);
      j++;
    } else if (j < m && (i === n || common[i][j + 1] >= common[i + 1][j])) {
      out.push(["+", after[j++]]);
    } else {
      out.push(["-", before[i++]]);
    }
  }
  return out;
}

function diffView(versions) {
  const pick = (id, chosen) =>
    h(
      "select",
      { id },
      versions.map((v) =>
        h("option", { value: String(v.version), selected: v.version === chosen }, `v${v.version}`),
      ),
    );
  const last = versions[versions.length - 1].version;
  const from = pick("diff-from", versions.length > 1 ? versions[versions.length - 2].version : last);
  const to = pick("diff-to", last);
  const out = h("div", { class: "diff-out" });
  const draw = () => {
    const a = versions.find((v) => String(v.version) === from.value);
    const b = versions.find((v) => String(v.version) === to.value);
    const lines = lineDiff(text(a.document), text(b.document));
    out.replaceChildren(
      h(
        "pre",
        { class: "diff", "aria-label": `Changes from v${a.version} to v${b.version}` },
        lines.map(([mark, line]) =>
          h(
            "span",
            { class: mark === "+" ? "diff-add" : mark === "-" ? "diff-del" : "diff-same" },
            `${mark} ${line}`,
          ),
        ),
      ),
    );
  };
  from.addEventListener("change", draw);
  to.addEventListener("change", draw);
  draw();
  return h(
    "div",
    { class: "policy-diff" },
    h(
      "div",
      { class: "inline-form" },
      h("label", { for: "diff-from" }, "From"),
      from,
      h("label", { for: "diff-to" }, "to"),
      to,
    ),
    out,
  );
}

function versionTable(policy, versions, rerender) {
  return table(
    [
      { key: "version", label: "Version", numeric: true, render: (v) => `v${v.version}` },
      { key: "created_at", label: "Created", render: (v) => fmtTime(v.created_at) },
      { key: "created_by", label: "By" },
      {
        key: "default",
        label: "Default",
        render: (v) =>
          v.default
            ? badge("default", "passed")
            : actionForm(
                "Make default",
                `set the default version of ${policy.name}`,
                [],
                () => put(`/policies/${seg(policy.name)}/default-version`, { version: v.version }),
                rerender,
                { class: ["inline-form", "make-default"], "data-version": v.version },
              ),
      },
    ],
    [...versions].reverse(),
    { empty: "No versions.", caption: "Versions (newest first)" },
  );
}

function deleteAction(policy) {
  return actionForm(
    "Delete policy",
    `delete ${policy.name}`,
    [h("span", { class: "muted" }, "Refused while a principal holds it or has it as boundary. ")],
    async () => {
      await del(`/policies/${seg(policy.name)}`);
      location.hash = "#/principals";
    },
    async () => undefined,
    { class: ["inline-form", "policy-delete"] },
  );
}

page("policies/:name", "view this policy", async ({ params, rerender }) => {
  const policies = await getAll("/policies");
  const policy = policies.find((p) => p.name === params.name);
  if (!policy) return [h("h1", {}, params.name), empty("No such policy.")];
  const versions = await part("list this policy's versions", async () => {
    const found = await get(`/policies/${seg(policy.name)}/versions`);
    return found.length
      ? [versionTable(policy, found, rerender), h("h3", {}, "Compare two versions"), diffView(found)]
      : empty("No versions recorded.");
  });
  return [
    h("h1", {}, `Policy ${policy.name}`),
    facts([
      ["Created", fmtTime(policy.created_at)],
      ["Default version", policy.default_version ? `v${policy.default_version}` : ""],
    ]),
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
          {
            key: "Condition",
            label: "Condition",
            sortable: false,
            render: (s) => (s.Condition ? JSON.stringify(s.Condition) : ""),
          },
        ],
        policy.document?.Statement || [],
      ),
    ),
    section("Versions", versions),
    section("Document", pre(policy.document)),
    section("Delete", deleteAction(policy)),
  ];
});
