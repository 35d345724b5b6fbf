// Paged listings in the console: the first page from the server, then a "More" button that
// asks for the rows after the last one shown (the server's next_page_token), never all rows.

import { get } from "./api.js";
import { h, notice, table } from "./dom.js";
import { actionMessage } from "./router.js";

/** Rows a page asks the server for. */
export const PAGE = 100;

/**
 * A table of a listing's first page and a "More" button while the server has more rows.
 * `query` is the listing's own filters (a name filter too), sent with every page.
 */
export async function pagedTable(path, query, columns, options = {}) {
  const first = await get(path, { ...query, limit: PAGE });
  const rows = [...first.items];
  let token = first.next_page_token;
  const box = h("div", { class: "paged" });
  const status = h("div", { class: "form-status", "aria-live": "polite" });
  const more = h("button", { type: "button", class: "more" }, "More…");
  const holder = h("div", { class: "toolbar" });
  const draw = () => {
    const caption = `${rows.length} shown${token ? "; more on the server" : ""}`;
    box.replaceChildren(table(columns, rows, { caption, ...options }));
    holder.replaceChildren(...(token ? [more] : []));
  };
  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      const next = await get(path, { ...query, limit: PAGE, page_token: token });
      rows.push(...next.items);
      token = next.next_page_token;
      status.replaceChildren();
      draw();
    } catch (error) {
      status.replaceChildren(notice("error", actionMessage("load more rows", error)));
    } finally {
      more.disabled = false;
    }
  });
  draw();
  return h("div", {}, box, holder, status);
}
