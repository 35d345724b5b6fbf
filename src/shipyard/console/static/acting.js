// A write started from a page: the form's fields, the call, then the page drawn again (so
// what is shown is what the server now holds), or the reason it was refused under the form.

import { h, notice } from "./dom.js";
import { actionMessage } from "./router.js";

/**
 * A small form: fields (nodes), one submit button labelled `label`, and `run(form)` called on
 * submit. `what` completes "You may not ..." when the server refuses.
 */
export function actionForm(label, what, fields, run, rerender, attrs = {}) {
  const status = h("div", { class: "form-status", "aria-live": "polite" });
  const button = h("button", { type: "submit" }, label);
  const form = h("form", { class: "inline-form", ...attrs }, fields, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      await run(form);
    } catch (error) {
      button.disabled = false;
      status.replaceChildren(notice("error", actionMessage(what, error)));
      return;
    }
    await rerender();
  });
  return h("div", { class: "action" }, form, status);
}

/** A labelled text input for an action form. */
export function field(id, label, attrs = {}) {
  return [h("label", { for: id }, label), h("input", { id, ...attrs })];
}

/** The value of input `id` inside `form`, trimmed. */
export const valueOf = (form, id) => form.querySelector(`#${id}`).value.trim();

/** "k=v" -> [k, v]; InvalidInput-like error naming the field when there is no "=". */
export function keyValue(text, fieldName) {
  const at = text.indexOf("=");
  if (at <= 0) throw new Error(`${fieldName}: expected KEY=VALUE, got ${JSON.stringify(text)}`);
  return [text.slice(0, at).trim(), text.slice(at + 1).trim()];
}
