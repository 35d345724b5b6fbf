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

/**
 * A destructive write asked twice: the `label` button shows `question` with `confirmLabel`
 * and Cancel; confirming calls `run()` (which moves the page on), and a refusal shows under
 * the form. `what` completes "You may not ...".
 */
export function confirmAction(label, confirmLabel, what, question, run, attrs = {}) {
  const status = h("div", { class: "form-status", "aria-live": "polite" });
  const ask = h("button", { type: "button", class: "danger" }, label);
  const form = h("form", { class: "inline-form", ...attrs }, ask);
  ask.addEventListener("click", () => {
    const yes = h("button", { type: "submit", class: "danger confirm" }, confirmLabel);
    const no = h("button", { type: "button", class: "cancel" }, "Cancel");
    no.addEventListener("click", () => {
      status.replaceChildren();
      form.replaceChildren(ask);
      ask.focus();
    });
    form.replaceChildren(h("span", { class: "question" }, question, " "), yes, " ", no);
    yes.focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const buttons = [...form.querySelectorAll("button")];
    for (const button of buttons) button.disabled = true;
    try {
      await run();
    } catch (error) {
      for (const button of buttons) button.disabled = false;
      status.replaceChildren(notice("error", actionMessage(what, error)));
    }
  });
  return h("div", { class: "action" }, form, status);
}

/**
 * A secret the server returns once (a new API key, a role's session key) in a read-only
 * field to copy from. It lives in this node only: never in the URL, storage or a later page.
 */
export function shownOnce(token, id, label, ...lines) {
  const input = h("input", {
    id,
    class: "token",
    readonly: true,
    value: token,
    autocomplete: "off",
    spellcheck: "false",
    "aria-label": label,
  });
  const copy = () => {
    input.select();
    navigator.clipboard?.writeText(token);
  };
  return h(
    "div",
    { class: "key-once", role: "status" },
    h(
      "p",
      {},
      h("strong", {}, "Copy this key now: it is shown once and cannot be read again."),
      ...lines.map((line) => [" ", line]),
    ),
    input,
    h("button", { type: "button", class: "copy", onclick: copy }, "Copy"),
  );
}
