// Hash router: "#/models/NAME?x=1" -> a page function. Each navigation clears the page
// first (no stale data on screen), and marks <main data-ready="1"> once the page is drawn.

import { ApiError } from "./api.js";
import { filterBox, h } from "./dom.js";

const routes = [];
let current = 0;

/** Pages with no tab of their own, and the tab they belong under. */
const SECTION_OF = {
  validations: "datasets",
  compare: "runs",
  evaluations: "models",
  "pipeline-runs": "pipelines",
  policies: "principals",
  simulator: "principals",
  groups: "principals",
  roles: "principals",
};

/** Register a page: pattern "models/:name", what = "view models" (for refusals). */
export function page(pattern, what, render) {
  const parts = pattern.split("/").filter(Boolean);
  routes.push({ parts, what, render });
}

function match(path) {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  for (const candidate of routes) {
    if (candidate.parts.length !== parts.length) continue;
    const params = {};
    const ok = candidate.parts.every((part, i) => {
      if (part.startsWith(":")) {
        params[part.slice(1)] = parts[i];
        return true;
      }
      return part === parts[i];
    });
    if (ok) return { route: candidate, params };
  }
  return null;
}

export function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, search = ""] = raw.split("?");
  return { path, query: Object.fromEntries(new URLSearchParams(search)) };
}

/** Replace the hash's query (keeps the path), which re-renders the page. */
export function setQuery(query) {
  const { path } = parseHash();
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  location.hash = `#/${path}${text ? `?${text}` : ""}`;
}

/** The panel shown for a refused request: the action and the server's message, no data. */
export function refusal(what, error) {
  return h(
    "div",
    { class: "refusal", role: "alert" },
    h("h2", {}, "Not allowed"),
    h("p", {}, `You may not ${what}: ${error.message}`),
  );
}

/** One line for a refused or failed write: the refusal in the same words as a page's. */
export function actionMessage(what, error) {
  if (error instanceof ApiError && error.status === 403)
    return `You may not ${what}: ${error.message}`;
  if (error instanceof ApiError)
    return `${error.type}: ${error.message}${error.field ? ` (${error.field})` : ""}`;
  return String(error);
}

export function failure(what, error) {
  if (error instanceof ApiError && error.status === 403) return refusal(what, error);
  const detail = error instanceof ApiError ? `${error.type}: ${error.message}` : String(error);
  return h(
    "div",
    { class: "failure", role: "alert" },
    h("h2", {}, "Could not load"),
    h("p", {}, detail),
  );
}

/**
 * Run one part of a page that may be refused or fail on its own (a panel inside a page):
 * returns its node, or the refusal/failure panel in its place.
 */
export async function part(what, build) {
  try {
    return await build();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) throw error;
    return failure(what, error);
  }
}

export async function navigate(main, onUnauthenticated) {
  const token = ++current;
  main.removeAttribute("data-ready");
  main.removeAttribute("data-route");
  const { path, query } = parseHash();
  const found = match(path || "datasets");
  main.replaceChildren(h("p", { class: "loading", role: "status" }, "Loading…"));
  for (const item of document.querySelectorAll("nav a[data-section]")) {
    const section = item.getAttribute("data-section");
    const first = (path || "datasets").split("/")[0];
    const here = SECTION_OF[first] || first;
    if (section === here) item.setAttribute("aria-current", "page");
    else item.removeAttribute("aria-current");
  }
  if (!found) {
    main.replaceChildren(
      h("div", { class: "failure" }, h("h2", {}, "No such page"), h("p", {}, path)),
    );
    main.setAttribute("data-route", location.hash);
    main.setAttribute("data-ready", "1");
    return;
  }
  const rerender = () => navigate(main, onUnauthenticated);
  let content;
  try {
    content = await found.route.render({ params: found.params, query, rerender });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      if (token === current) onUnauthenticated();
      return;
    }
    content = failure(found.route.what, error);
  }
  if (token !== current) return;
  main.replaceChildren(...[content].flat().filter(Boolean));
  const heading = main.querySelector("h1");
  document.title = heading ? `${heading.textContent} · Shipyard` : "Shipyard";
  main.setAttribute("data-route", location.hash);
  main.setAttribute("data-ready", "1");
}

/** A listing's filter for the page's `q` box: the server keeps the names holding it (any case). */
export function byName(query) {
  return query.q ? { name_contains: query.q } : {};
}

/** A list page's title and its filter-by-name box, which keeps the filter in the URL. */
export function listHeading(title, query) {
  return [
    h("h1", {}, title),
    h(
      "div",
      { class: "toolbar" },
      filterBox("Filter by name", query.q, (q) => setQuery({ ...query, q })),
    ),
  ];
}
