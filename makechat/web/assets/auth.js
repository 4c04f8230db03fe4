// The log-in and register forms, shared by the chat page and the admin page.

import { request, signIn, errorText } from "./api.js";
import { h, field, notice, busy } from "./dom.js";

/** Return the log-in view; onSignedIn(user) runs after a successful log-in. */
export function loginView({ onSignedIn, registerHref, message, heading = "Log in" }) {
  const status = notice();
  const username = field("Username", { name: "username", autocomplete: "username",
    required: true, maxlength: 254 });
  const password = field("Password", { name: "password", type: "password",
    autocomplete: "current-password", required: true, maxlength: 1024 });
  // The Register link shows only where registration is open (GET /api/register).
  const registerLine = registerHref &&
    h("p", { hidden: true }, "No account yet? ", h("a", { href: registerHref }, "Register"));
  if (registerLine) {
    request("GET", "/api/register")
      .then(({ data }) => {
        registerLine.dataset.registration = data.registration;
        registerLine.hidden = data.registration !== "open";
      })
      .catch(() => { registerLine.hidden = false; });
  }
  const form = h("form", { className: "card", "aria-labelledby": "login-heading" },
    h("h1", { id: "login-heading" }, heading),
    status.element,
    username.field,
    password.field,
    h("button", { type: "submit", className: "primary" }, "Log in"),
    registerLine);
  if (message) status.info(message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.clear();
    try {
      const user = await busy(form, () => signIn("/api/login", {
        username: username.input.value.trim(), password: password.input.value }));
      onSignedIn(user);
    } catch (error) {
      status.error(errorText(error));
      password.input.value = "";
      password.input.focus();
    }
  });
  return { element: form, focusTarget: username.input };
}

/** Return the register view (the API answers 403 while registration is closed). */
export function registerView({ onSignedIn, loginHref }) {
  const status = notice();
  const username = field("Username", { name: "username", autocomplete: "username",
    required: true, minlength: 3, maxlength: 32 });
  const email = field("Email", { name: "email", type: "email", autocomplete: "email",
    required: true, maxlength: 254 });
  const password = field("Password", { name: "password", type: "password",
    autocomplete: "new-password", required: true, minlength: 8, maxlength: 1024 });
  const form = h("form", { className: "card", "aria-labelledby": "register-heading" },
    h("h1", { id: "register-heading" }, "Create an account"),
    status.element,
    username.field,
    email.field,
    password.field,
    h("button", { type: "submit", className: "primary" }, "Register"),
    h("p", {}, "Already have an account? ", h("a", { href: loginHref }, "Log in")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.clear();
    try {
      const user = await busy(form, () => signIn("/api/register", {
        username: username.input.value.trim(), email: email.input.value.trim(),
        password: password.input.value }));
      onSignedIn(user);
    } catch (error) {
      status.error(errorText(error));
    }
  });
  return { element: form, focusTarget: username.input };
}
