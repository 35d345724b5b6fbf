// The console's one door to the server: same-origin fetch, the CSRF header on unsafe
// methods, and the API's JSON error body turned into an ApiError.

export class ApiError extends Error {
  constructor(status, type, message, field) {
    super(message);
    this.status = status;
    this.type = type;
    this.field = field;
  }
}

function csrfToken() {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === "shipyard_csrf") return decodeURIComponent(rest.join("="));
  }
  return "";
}

const SAFE = new Set(["GET", "HEAD"]);

export async function request(method, path, { query, body, signal } = {}) {
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined || value === null || value === "") continue;
      params.set(key, String(value));
    }
    const text = params.toString();
    if (text) url += (url.includes("?") ? "&" : "?") + text;
  }
  const headers = { Accept: "application/json" };
  if (!SAFE.has(method)) headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  const payload = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const error = (payload && payload.error) || {};
    throw new ApiError(
      response.status,
      error.type || "HTTPError",
      error.message || `${response.status} ${response.statusText}`,
      error.field || null,
    );
  }
  return payload;
}

/** GET under /api/v1. */
export const get = (path, query, signal) => request("GET", `/api/v1${path}`, { query, signal });
export const post = (path, body, query) => request("POST", `/api/v1${path}`, { body, query });
export const put = (path, body) => request("PUT", `/api/v1${path}`, { body });
export const patch = (path, body) => request("PATCH", `/api/v1${path}`, { body });
export const del = (path, query) => request("DELETE", `/api/v1${path}`, { query });

/** Every row of a paged listing, following next_page_token (for lookups and choices). */
export async function getAll(path, query = {}) {
  const rows = [];
  let token = null;
  do {
    const page = await get(path, { ...query, limit: 1000, page_token: token });
    rows.push(...page.items);
    token = page.next_page_token;
  } while (token);
  return rows;
}

export const session = {
  current: () => request("GET", "/console/session"),
  login: (key) => request("POST", "/console/session", { body: { key } }),
  logout: () => request("DELETE", "/console/session"),
};

/** A path segment, escaped (names may hold '@', '/', spaces). */
export const seg = (value) => encodeURIComponent(String(value));

/** True for the 404 of a path no route takes (an operation this server does not have). */
export const unrouted = (error) =>
  error instanceof ApiError && error.status === 404 && error.message === "Not Found";
