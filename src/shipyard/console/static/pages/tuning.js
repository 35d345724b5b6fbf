// Tuning jobs: the list, and one job's optimization history, parallel coordinates of its
// trials' parameters against the objective, and the trials.

import { get, seg } from "../api.js";
import { lineChart, parallelCoordinates } from "../charts.js";
import {
  badge,
  empty,
  facts,
  fmtNumber,
  fmtTime,
  h,
  link,
  route,
  section,
  shortId,
  table,
} from "../dom.js";
import { page } from "../router.js";

page("tuning", "list tuning jobs", async ({ query }) => {
  const limit = Math.min(Number(query.limit || 50), 500);
  const jobs = await get("/tuning-jobs", { limit });
  return [
    h("h1", {}, "Tuning jobs"),
    table(
      [
        {
          key: "name",
          label: "Name",
          render: (j) => link(route("tuning", j.id), j.name || shortId(j.id)),
        },
        { key: "status", label: "Status", render: (j) => badge(j.status) },
        { key: "dataset", label: "Dataset" },
        { key: "message", label: "Summary" },
        { key: "created_at", label: "Created", render: (j) => fmtTime(j.created_at) },
      ],
      jobs,
      { rowHref: (j) => route("tuning", j.id), empty: "No tuning jobs." },
    ),
    jobs.length === limit ? link(`#/tuning?limit=${limit + 50}`, "More…", { class: "more" }) : null,
  ];
});

page("tuning/:id", "view this tuning job", async ({ params }) => {
  const job = await get(`/tuning-jobs/${seg(params.id)}`);
  const [trials, best] = await Promise.all([
    get(`/tuning-jobs/${seg(params.id)}/trials`),
    get(`/tuning-jobs/${seg(params.id)}/best`).catch(() => null),
  ]);
  const objective = (best?.objectives || job.spec?.objectives || [job.spec?.objective]).filter(
    Boolean,
  )[0] || { metric: "value", direction: "maximize" };
  const maximize = objective.direction !== "minimize";
  const done = trials
    .filter((t) => t.values && t.values.length)
    .sort((a, b) => a.number - b.number);
  let bestSoFar = null;
  const xs = [];
  const values = [];
  const running = [];
  for (const trial of done) {
    const v = trial.values[0];
    bestSoFar = bestSoFar === null ? v : maximize ? Math.max(bestSoFar, v) : Math.min(bestSoFar, v);
    xs.push(trial.number);
    values.push(v);
    running.push(bestSoFar);
  }
  const paramNames = [...new Set(trials.flatMap((t) => Object.keys(t.params || {})))];
  const dims = [
    ...paramNames.map((key) => ({
      key,
      label: key,
      categorical: trials.some((t) => typeof t.params?.[key] === "string"),
    })),
    { key: "__objective", label: objective.metric },
  ];
  const pcRows = done.map((t) => ({
    values: { ...t.params, __objective: t.values[0] },
    score: maximize ? t.values[0] : -t.values[0],
    title: `trial ${t.number}: ${objective.metric}=${fmtNumber(t.values[0])}`,
  }));
  const bestTrial = best?.trials?.[0];
  return [
    h("h1", {}, `Tuning: ${job.name || shortId(job.id)}`, " ", badge(job.status)),
    facts([
      ["Job id", h("code", {}, job.id)],
      [
        "Dataset",
        job.dataset
          ? link(
              route("datasets", job.dataset.split("@")[0]) +
                `?version=${encodeURIComponent(job.dataset.split("@")[1] || "")}`,
              job.dataset,
            )
          : "",
      ],
      ["Objective", `${objective.direction} ${objective.metric}`],
      ["Summary", job.message],
      ["Parent run", job.run_id ? link(route("runs", job.run_id), shortId(job.run_id)) : ""],
      [
        "Best trial",
        bestTrial
          ? h(
              "span",
              {},
              `#${bestTrial.number} ${objective.metric}=${fmtNumber(bestTrial.values?.[0])} `,
              bestTrial.run_id ? link(route("runs", bestTrial.run_id), "run") : "",
            )
          : "",
      ],
      ["Created", `${fmtTime(job.created_at)} by ${job.created_by}`],
    ]),
    section(
      "Optimization history",
      done.length
        ? lineChart(
            [
              { name: `${objective.metric} per trial`, xs, ys: values },
              { name: `best so far`, xs, ys: running },
            ],
            { title: "Objective by trial", xLabel: "trial", yLabel: objective.metric },
          )
        : empty("No finished trials yet."),
    ),
    section(
      "Parameters against the objective",
      done.length
        ? parallelCoordinates(dims, pcRows, { title: "Parallel coordinates of trials" })
        : empty("No finished trials yet."),
    ),
    section(
      "Trials",
      table(
        [
          { key: "number", label: "Trial", numeric: true },
          { key: "state", label: "State", render: (t) => badge(t.state) },
          {
            key: "value",
            label: objective.metric,
            numeric: true,
            value: (t) => t.values?.[0],
            render: (t) => fmtNumber(t.values?.[0]),
          },
          ...paramNames.map((p) => ({
            key: p,
            label: p,
            value: (t) => t.params?.[p],
            render: (t) => fmtNumber(t.params?.[p]),
          })),
          { key: "reason", label: "Note", render: (t) => t.reason || "" },
          {
            key: "run_id",
            label: "Run",
            sortable: false,
            render: (t) => (t.run_id ? link(route("runs", t.run_id), shortId(t.run_id)) : ""),
          },
        ],
        trials,
        { sort: { key: "value", desc: maximize } },
      ),
    ),
  ];
});
