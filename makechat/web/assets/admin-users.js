// The users section of the admin page: the table of every account, creating
// one, and enabling, disabling, promoting and demoting the others.

import { api, errorText, oid } from "./api.js";
import { h, notice, field, busy } from "./dom.js";
import { loadAll, yesNo } from "./admin-common.js";

/** Return {element, load}; ``users`` (id -> user) is kept up to date for the
 * rooms section, which names members by username. */
export function usersSection(me, users) {
  const status = notice();
  const username = field("Username", { name: "username", required: true, minlength: 3,
    maxlength: 32, autocomplete: "off" });
  const email = field("Email", { name: "email", type: "email", required: true, maxlength: 254,
    autocomplete: "off" });
  const password = field("Password", { name: "password", type: "password", required: true,
    minlength: 8, maxlength: 1024, autocomplete: "new-password" });
  const admin = field("Administrator", { name: "is_superuser", type: "checkbox" });
  const form = h("form", { className: "inline-form", "aria-labelledby": "new-user-heading" },
    h("h3", { id: "new-user-heading" }, "Create a user"),
    username.field, email.field, password.field, admin.field,
    h("button", { type: "submit", className: "primary" }, "Create user"));
  const body = h("tbody", { id: "user-rows" });
  const table = h("div", { className: "table-wrap" }, h("table", { "aria-labelledby": "users-heading" },
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Username"), h("th", { scope: "col" }, "Email"),
      h("th", { scope: "col" }, "Admin"), h("th", { scope: "col" }, "Active"),
      h("th", { scope: "col" }, "Actions"))),
    body));
  const element = h("section", { "aria-labelledby": "users-heading" },
    h("h2", { id: "users-heading" }, "Users"), status.element, form, table);

  async function change(user, changes, done, buttonClass) {
    status.clear();
    try {
      const updated = await api("PATCH", `/api/users/${oid(user._id)}`, { body: changes });
      users.set(oid(updated._id), updated);
      const row = userRow(updated);
      body.querySelector(`tr[data-user-id="${oid(updated._id)}"]`).replaceWith(row);
      status.info(done(updated));
      row.querySelector(`.${buttonClass}`)?.focus();   // keep the keyboard where it was
    } catch (error) {
      status.error(errorText(error));
    }
  }

  function userRow(user) {
    const self = oid(user._id) === oid(me._id);
    const actions = self ? h("span", { className: "muted" }, "(you)") : [
      h("button", { type: "button", className: "toggle-active",
        "aria-label": `${user.is_active ? "Disable" : "Enable"} ${user.username}`,
        onclick: () => change(user, { is_active: !user.is_active },
          (u) => `${u.username} is now ${u.is_active ? "enabled" : "disabled"}.`, "toggle-active") },
        user.is_active ? "Disable" : "Enable"),
      h("button", { type: "button", className: "toggle-admin",
        "aria-label": `${user.is_superuser ? "Remove admin from" : "Make admin:"} ${user.username}`,
        onclick: () => change(user, { is_superuser: !user.is_superuser },
          (u) => `${u.username} is ${u.is_superuser ? "now an admin" : "no longer an admin"}.`,
          "toggle-admin") },
        user.is_superuser ? "Remove admin" : "Make admin"),
    ];
    return h("tr", { "data-user-id": oid(user._id), className: user.is_active ? "" : "inactive" },
      h("th", { scope: "row" }, user.username), h("td", {}, user.email),
      h("td", { className: "is-admin" }, yesNo(user.is_superuser)),
      h("td", { className: "is-active" }, yesNo(user.is_active)),
      h("td", { className: "actions" }, actions));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.clear();
    try {
      const user = await busy(form, () => api("POST", "/api/users", { body: {
        username: username.input.value.trim(), email: email.input.value.trim(),
        password: password.input.value, is_superuser: admin.input.checked } }));
      users.set(oid(user._id), user);
      body.append(userRow(user));
      form.reset();
      status.info(`User ${user.username} created.`);
      username.input.focus();
    } catch (error) {
      status.error(errorText(error));
    }
  });

  async function load() {
    try {
      const all = await loadAll("/api/users?limit=200");
      // Upsert: a user created while the list loaded keeps its row.
      for (const user of all) {
        users.set(oid(user._id), user);
        const row = body.querySelector(`tr[data-user-id="${oid(user._id)}"]`);
        if (row) row.replaceWith(userRow(user));
        else body.append(userRow(user));
      }
    } catch (error) {
      status.error(errorText(error));
    }
  }

  return { element, load };
}
