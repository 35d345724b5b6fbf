// Pipelines: the step graph, runs, and one run's steps.

import { get, seg } from "../api.js";
import { dag } from "../charts.js";
import { badge, facts, fmtTime, h, link, route, section, shortId, table } from "../dom.js";
import { page, part } from "../router.js";
import { pagedTable } from "../paging.js";

page("pipelines", "list pipelines", async () => {
  return [
    h("h1", {}, "Pipelines"),
    await pagedTable(
      "/pipelines",
      {},
      [
        { key: "name", label: "Name", render: (p) => link(route("pipelines", p.name), p.name) },
        { key: "version", label: "Version", numeric: true },
        {
          key: "steps",
          label: "Steps",
          value: (p) => (p.steps || []).length,
          render: (p) => (p.steps || []).length,
        },
        { key: "schedule", label: "Schedule" },
        { key: "description", label: "Description" },
        { key: "updated_at", label: "Updated", render: (p) => fmtTime(p.updated_at) },
      ],
      { rowHref: (p) => route("pipelines", p.name), empty: "No pipelines." },
    ),
  ];
});

function stepGraph(steps, title) {
  const nodes = steps.map((step) => ({
    id: step.name,
    kind: step.kind,
    label: step.name,
    status: step.status,
  }));
  const edges = steps.flatMap((step) =>
    (step.depends_on || []).map((from) => ({ from, to: step.name })),
  );
  return dag(nodes, edges, { title });
}

page("pipelines/:name", "view this pipeline", async ({ params }) => {
  const pipeline = await get(`/pipelines/${seg(params.name)}`);
  const runs = await part("list this pipeline's runs", async () =>
    pagedTable(
      `/pipelines/${seg(params.name)}/runs`,
      {},
      [
        {
          key: "id",
          label: "Run",
          render: (r) => link(route("pipeline-runs", r.id), shortId(r.id)),
        },
        { key: "status", label: "Status", render: (r) => badge(r.status) },
        {
          key: "trigger",
          label: "Trigger",
          render: (r) =>
            typeof r.trigger === "string" ? r.trigger : JSON.stringify(r.trigger || ""),
        },
        { key: "message", label: "Message" },
        { key: "created_at", label: "Started", render: (r) => fmtTime(r.created_at) },
      ],
      { rowHref: (r) => route("pipeline-runs", r.id), empty: "Never run." },
    ),
  );
  return [
    h(
      "h1",
      {},
      `Pipeline ${pipeline.name}`,
      " ",
      h("span", { class: "muted" }, `v${pipeline.version}`),
    ),
    facts([
      ["Description", pipeline.description],
      ["Schedule", pipeline.schedule || ""],
      [
        "Parameters",
        Object.keys(pipeline.parameters || {}).length ? JSON.stringify(pipeline.parameters) : "",
      ],
      ["Updated", `${fmtTime(pipeline.updated_at)} by ${pipeline.created_by}`],
    ]),
    section("Graph", stepGraph(pipeline.steps || [], `Steps of ${pipeline.name}`)),
    section("Runs", runs),
  ];
});

page("pipeline-runs/:id", "view this pipeline run", async ({ params }) => {
  const run = await get(`/pipeline-runs/${seg(params.id)}`);
  return [
    h("h1", {}, `Pipeline run ${shortId(run.id)}`, " ", badge(run.status)),
    facts([
      [
        "Pipeline",
        link(route("pipelines", run.pipeline), `${run.pipeline} v${run.pipeline_version}`),
      ],
      ["Message", run.message],
      ["Parameters", JSON.stringify(run.parameters || {})],
      ["Started", fmtTime(run.started_at || run.created_at)],
      ["Ended", fmtTime(run.ended_at)],
    ]),
    section("Graph", stepGraph(run.steps || [], "Steps of this run")),
    section(
      "Steps",
      table(
        [
          { key: "name", label: "Step" },
          { key: "kind", label: "Kind" },
          { key: "status", label: "Status", render: (s) => badge(s.status) },
          {
            key: "reused_from",
            label: "Cached from",
            render: (s) => (s.reused_from ? shortId(s.reused_from) : ""),
          },
          { key: "message", label: "Message" },
          { key: "started_at", label: "Started", render: (s) => fmtTime(s.started_at) },
        ],
        run.steps || [],
      ),
    ),
  ];
});
