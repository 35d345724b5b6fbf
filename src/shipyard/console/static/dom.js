// Small DOM helpers. Data only ever reaches the page as text (textContent or attribute
// values), never as markup.

const SVG_NS = "http://www.w3.org/2000/svg";

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function setAttrs(node, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      node.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  return node;
}

/** An HTML element: h("a", {href: "#/x"}, "text", child, ...). */
export function h(tag, attrs, ...children) {
  return append(setAttrs(document.createElement(tag), attrs), children);
}

/** An SVG element. */
export function s(tag, attrs, ...children) {
  return append(setAttrs(document.createElementNS(SVG_NS, tag), attrs), children);
}

export const link = (href, text, attrs = {}) => h("a", { href, ...attrs }, text);

/** A route href from path segments, each escaped: route("models", name) -> "#/models/x". */
export const route = (...parts) => "#/" + parts.map((p) => encodeURIComponent(String(p))).join("/");

export function fmtNumber(value, digits = 4) {
  if (value === null || value === undefined || value === "") return "";
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(3);
  return Number(value.toPrecision(digits)).toString();
}

export function fmtTime(value) {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toISOString().replace("T", " ").slice(0, 19);
}

export function fmtBytes(bytes) {
  if (bytes === null || bytes === undefined) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

export const shortId = (id) => (id ? String(id).slice(0, 8) : "");

/** A status word as a coloured badge (class by status). */
export function badge(text, kind) {
  const word = String(text ?? "");
  return h(
    "span",
    { class: ["badge", `badge-${kind || word.toLowerCase().replace(/\W+/g, "-")}`] },
    word,
  );
}

export function section(title, ...children) {
  return h("section", { class: "panel" }, h("h2", {}, title), ...children);
}

/** A definition list from [label, value] pairs. */
export function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs
      .filter(([, value]) => value !== undefined && value !== null && value !== "")
      .map(([label, value]) => [h("dt", {}, label), h("dd", {}, value)]),
  );
}

export const empty = (text) => h("p", { class: "empty" }, text);

/** A JSON document shown as text. */
export const pre = (value) =>
  h("pre", { class: "json" }, typeof value === "string" ? value : JSON.stringify(value, null, 2));

/**
 * A table with sortable headers and keyboard row navigation.
 * columns: [{key, label, value(row) -> sortable, render(row) -> node/text, numeric}]
 * options: {caption, sort: {key, desc}, onSort(key, desc) (server-side; else sorted here),
 *           rowHref(row), rowLabel}
 */
export function table(columns, rows, options = {}) {
  let sort = options.sort || null;
  const wrap = h("div", { class: "table-wrap" });

  function sorted() {
    if (!sort || options.onSort) return rows;
    const column = columns.find((c) => c.key === sort.key);
    if (!column) return rows;
    const value = column.value || ((row) => row[column.key]);
    const copy = [...rows];
    copy.sort((a, b) => {
      const x = value(a);
      const y = value(b);
      if (x === y) return 0;
      if (x === undefined || x === null) return 1;
      if (y === undefined || y === null) return -1;
      const order =
        typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return sort.desc ? -order : order;
    });
    return copy;
  }

  function draw() {
    const head = h(
      "tr",
      {},
      columns.map((column) => {
        const active = sort && sort.key === column.key;
        const ariaSort = active ? (sort.desc ? "descending" : "ascending") : "none";
        const content =
          column.sortable === false
            ? column.label
            : h(
                "button",
                {
                  type: "button",
                  class: "sort",
                  onclick: () => {
                    sort = { key: column.key, desc: active ? !sort.desc : !!column.numeric };
                    if (options.onSort) options.onSort(sort.key, sort.desc);
                    else draw();
                  },
                },
                column.label,
                active ? (sort.desc ? " ▾" : " ▴") : "",
              );
        return h(
          "th",
          { scope: "col", "aria-sort": ariaSort, class: column.numeric ? "num" : null },
          content,
        );
      }),
    );
    const body = h("tbody");
    sorted().forEach((row, index) => {
      const href = options.rowHref ? options.rowHref(row) : null;
      const tr = h(
        "tr",
        { tabindex: index === 0 ? "0" : "-1", "data-href": href },
        columns.map((column) => {
          const content = column.render ? column.render(row) : row[column.key];
          const cell =
            typeof content === "number" ? fmtNumber(content) : content === undefined ? "" : content;
          return h("td", { class: column.numeric ? "num" : null }, cell);
        }),
      );
      body.append(tr);
    });
    body.addEventListener("keydown", (event) => {
      const tr = event.target.closest("tr");
      if (!tr || event.target !== tr) return;
      let next = null;
      if (event.key === "ArrowDown") next = tr.nextElementSibling;
      else if (event.key === "ArrowUp") next = tr.previousElementSibling;
      else if (event.key === "Home") next = body.firstElementChild;
      else if (event.key === "End") next = body.lastElementChild;
      else if (event.key === "Enter") {
        const href = tr.getAttribute("data-href");
        const anchor = tr.querySelector("a[href]");
        if (href) location.hash = href.slice(1);
        else if (anchor) anchor.click();
        return;
      }
      if (next) {
        event.preventDefault();
        tr.setAttribute("tabindex", "-1");
        next.setAttribute("tabindex", "0");
        next.focus();
      }
    });
    const tableNode = h(
      "table",
      { class: "data" },
      options.caption ? h("caption", {}, options.caption) : null,
      h("thead", {}, head),
      body,
    );
    wrap.replaceChildren(rows.length ? tableNode : empty(options.empty || "Nothing here yet."));
  }
  draw();
  return wrap;
}

/** A labelled text box that calls onChange after typing pauses (or on Enter). */
export function filterBox(label, value, onChange, placeholder = "") {
  const id = `f-${label.toLowerCase().replace(/\W+/g, "-")}`;
  const input = h("input", {
    id,
    type: "search",
    value: value || "",
    placeholder,
    autocomplete: "off",
  });
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => onChange(input.value.trim()), 350);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      clearTimeout(timer);
      onChange(input.value.trim());
    }
  });
  return h("span", { class: "filter" }, h("label", { for: id }, label), input);
}

/** A one-line message under a form: ok or error. */
export function notice(kind, text) {
  return h(
    "p",
    { class: ["notice", `notice-${kind}`], role: kind === "error" ? "alert" : "status" },
    text,
  );
}
