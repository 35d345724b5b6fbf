// Boot: check the session, show the login form or the console, route on hash changes.

import { ApiError, session } from "./api.js";
import { navigate } from "./router.js";
import "./pages/datasets.js";
import "./pages/tracking.js";
import "./pages/tuning.js";
import "./pages/models.js";
import "./pages/endpoints.js";
import "./pages/monitoring.js";
import "./pages/pipelines.js";
import "./pages/cost.js";
import "./pages/audit.js";
import "./pages/evaluations.js";
import "./pages/access.js";
import "./pages/principal.js";
import "./pages/groups.js";
import "./pages/roles.js";
import "./pages/policies.js";

const main = document.getElementById("main");
const nav = document.querySelector("header nav");
const who = document.querySelector("header .who");

function showLogin(message) {
  nav.hidden = true;
  who.hidden = true;
  main.removeAttribute("data-ready");
  const form = document.getElementById("login-template").content.firstElementChild.cloneNode(true);
  main.replaceChildren(form);
  const error = form.querySelector("#login-error");
  const note = form.querySelector("#login-note");
  if (message) {
    note.textContent = message;
    note.hidden = false;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = form.querySelector("#login-key");
    const button = form.querySelector("button");
    button.disabled = true;
    note.hidden = true;
    error.hidden = true;
    try {
      const me = await session.login(input.value.trim());
      input.value = "";
      signedIn(me);
    } catch (failure) {
      error.textContent =
        failure instanceof ApiError
          ? `Sign-in refused: ${failure.message}`
          : `Sign-in failed: ${failure}`;
      error.hidden = false;
      button.disabled = false;
      input.focus();
    }
  });
  form.querySelector("#login-key").focus();
  main.setAttribute("data-ready", "1");
}

function signedIn(me) {
  nav.hidden = false;
  who.hidden = false;
  document.getElementById("principal").textContent = me.principal;
  navigate(main, () => showLogin("Your session has ended; sign in again."));
}

document.getElementById("logout").addEventListener("click", async () => {
  try {
    await session.logout();
  } finally {
    showLogin("Signed out.");
  }
});

window.addEventListener("hashchange", () => {
  if (!nav.hidden) navigate(main, () => showLogin("Your session has ended; sign in again."));
});

session.current().then(signedIn, () => showLogin(""));
