// The admin page (/makechat/admin): create, disable and promote users; create,
// edit and delete rooms; add and remove room members.

import { api, request, session, signOut, errorText, oid } from "./api.js";
import { loginView } from "./auth.js";
import { h, replace, notice, field, focus, busy, announce } from "./dom.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");

const users = new Map();   // user id -> user, every account (for member names)

async function loadAll(path) {
  const items = [];
  while (path) {
    const page = await request("GET", path);
    items.push(...page.data);
    path = page.next;
  }
  return items;
}

function yesNo(value) {
  return value ? "yes" : "no";
}

function renderNav(user) {
  replace(nav,
    h("span", { className: "whoami" }, "Signed in as ", h("strong", {}, user.username)),
    h("a", { href: "./" }, "Chat"),
    h("button", { type: "button", className: "link", onclick: async () => {
      await signOut();
      start();
    } }, "Log out"));
}

// --- users --------------------------------------------------------------------

function usersSection(me) {
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

// --- rooms --------------------------------------------------------------------

function roomFields(room = {}) {
  return {
    name: field("Name", { name: "name", required: true, maxlength: 100, value: room.name || "" }),
    topic: field("Topic", { name: "topic", maxlength: 500, value: room.topic || "" }),
    isOpen: field("Open: anyone may join", { name: "is_open", type: "checkbox",
      checked: room.is_open ?? true }),
    isVisible: field("Visible in the room list", { name: "is_visible", type: "checkbox",
      checked: room.is_visible ?? true }),
  };
}

function roomBody(fields) {
  return { name: fields.name.input.value.trim(), topic: fields.topic.input.value.trim(),
    is_open: fields.isOpen.input.checked, is_visible: fields.isVisible.input.checked };
}

function roomsSection() {
  const status = notice();
  const fields = roomFields();
  const form = h("form", { className: "inline-form", "aria-labelledby": "new-room-heading" },
    h("h3", { id: "new-room-heading" }, "Create a room"),
    fields.name.field, fields.topic.field, fields.isOpen.field, fields.isVisible.field,
    h("button", { type: "submit", className: "primary" }, "Create room"));
  const body = h("tbody", { id: "room-rows" });
  const table = h("div", { className: "table-wrap" }, h("table", { "aria-labelledby": "rooms-heading" },
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Topic"),
      h("th", { scope: "col" }, "Open"), h("th", { scope: "col" }, "Visible"),
      h("th", { scope: "col" }, "Members"), h("th", { scope: "col" }, "Actions"))),
    body));
  const panel = h("section", { id: "room-panel", className: "panel", hidden: true,
    "aria-labelledby": "room-panel-heading" });
  const element = h("section", { "aria-labelledby": "rooms-heading" },
    h("h2", { id: "rooms-heading" }, "Rooms"), status.element, form, table, panel);

  function closePanel(returnTo) {
    panel.hidden = true;
    replace(panel);
    if (returnTo) returnTo.focus();
  }

  function updateRow(room) {
    const row = body.querySelector(`tr[data-room-id="${oid(room._id)}"]`);
    const fresh = roomRow(room);
    if (row) row.replaceWith(fresh);
    else body.append(fresh);
    return fresh;
  }

  function roomRow(room) {
    const id = oid(room._id);
    const row = h("tr", { "data-room-id": id },
      h("th", { scope: "row" }, room.name), h("td", {}, room.topic || ""),
      h("td", {}, yesNo(room.is_open)), h("td", {}, yesNo(room.is_visible)),
      h("td", { className: "member-count" }, String((room.members || []).length)),
      h("td", { className: "actions" },
        h("button", { type: "button", className: "edit-room", "aria-label": `Edit ${room.name}`,
          onclick: (event) => editRoom(room, event.currentTarget) }, "Edit"),
        h("button", { type: "button", className: "manage-members",
          "aria-label": `Members of ${room.name}`,
          onclick: (event) => manageMembers(room, event.currentTarget) }, "Members"),
        h("button", { type: "button", className: "delete-room danger",
          "aria-label": `Delete ${room.name}`, onclick: () => deleteRoom(room) }, "Delete")));
    return row;
  }

  function editRoom(room, opener) {
    const editFields = roomFields(room);
    const editStatus = notice();
    const editForm = h("form", {},
      editStatus.element, editFields.name.field, editFields.topic.field,
      editFields.isOpen.field, editFields.isVisible.field,
      h("div", { className: "actions" },
        h("button", { type: "submit", className: "primary" }, "Save room"),
        h("button", { type: "button", onclick: () => closePanel(opener) }, "Cancel")));
    editForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const updated = await busy(editForm, () => api("PATCH", `/api/rooms/${oid(room._id)}`,
          { body: roomBody(editFields) }));
        const row = updateRow(updated);
        closePanel(row.querySelector(".edit-room"));
        status.info(`Room ${updated.name} saved.`);
      } catch (error) {
        editStatus.error(errorText(error));
      }
    });
    replace(panel, h("h3", { id: "room-panel-heading" }, `Edit room ${room.name}`), editForm);
    panel.hidden = false;
    editFields.name.input.focus();
  }

  async function deleteRoom(room) {
    if (!window.confirm(`Delete the room ${room.name} and all its messages?`)) return;
    status.clear();
    try {
      await api("DELETE", `/api/rooms/${oid(room._id)}`);
      body.querySelector(`tr[data-room-id="${oid(room._id)}"]`)?.remove();
      closePanel();
      status.info(`Room ${room.name} deleted.`);
      focus(document.getElementById("rooms-heading"));
    } catch (error) {
      status.error(errorText(error));
    }
  }

  async function manageMembers(room, opener) {
    const roomId = oid(room._id);
    const panelStatus = notice();
    const list = h("ul", { className: "member-list", id: "admin-member-list" });
    const datalistId = "known-usernames";
    const who = field("Username", { name: "username", required: true, list: datalistId,
      autocomplete: "off" });
    const role = field("Role", { name: "role" }, "select");
    role.input.append(h("option", { value: "member" }, "member"),
      h("option", { value: "owner" }, "owner"));
    const addForm = h("form", { className: "inline-form", "aria-label": `Add a member to ${room.name}` },
      who.field, role.field,
      h("datalist", { id: datalistId },
        ...Array.from(users.values(), (user) => h("option", { value: user.username }))),
      h("button", { type: "submit", className: "primary" }, "Add member"));

    async function refresh() {
      const members = await loadAll(`/api/members?room=${roomId}&limit=200`);
      replace(list, ...members.map((member) => h("li", { className: "member", "data-member-id": oid(member._id) },
        h("span", { className: "member-name" }, member.username),
        h("span", { className: "badge" }, member.role),
        h("button", { type: "button", className: "remove-member danger",
          "aria-label": `Remove ${member.username} from ${room.name}`,
          onclick: () => removeMember(member) }, "Remove"))));
      if (!members.length) list.append(h("li", { className: "muted" }, "No members."));
      const fresh = await api("GET", `/api/rooms/${roomId}`);
      updateRow(fresh);
    }

    async function removeMember(member) {
      panelStatus.clear();
      try {
        await api("DELETE", `/api/members/${oid(member._id)}`);
        await refresh();
        panelStatus.info(`${member.username} removed from ${room.name}.`);
        who.input.focus();
      } catch (error) {
        panelStatus.error(errorText(error));
      }
    }

    addForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      panelStatus.clear();
      const name = who.input.value.trim().toLowerCase();
      const user = Array.from(users.values()).find((u) => u.username.toLowerCase() === name);
      if (!user) {
        panelStatus.error(`There is no user named ${who.input.value.trim()}.`);
        return;
      }
      try {
        await busy(addForm, () => api("POST", "/api/members",
          { body: { room: roomId, user: oid(user._id), role: role.input.value } }));
        addForm.reset();
        await refresh();
        panelStatus.info(`${user.username} added to ${room.name}.`);
        who.input.focus();
      } catch (error) {
        panelStatus.error(errorText(error));
      }
    });

    replace(panel, h("h3", { id: "room-panel-heading" }, `Members of ${room.name}`),
      panelStatus.element, list, addForm,
      h("button", { type: "button", onclick: () => closePanel(opener) }, "Close"));
    panel.hidden = false;
    try {
      await refresh();
    } catch (error) {
      panelStatus.error(errorText(error));
    }
    focus(document.getElementById("room-panel-heading"));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.clear();
    try {
      const room = await busy(form, () => api("POST", "/api/rooms", { body: roomBody(fields) }));
      updateRow(room);
      form.reset();
      status.info(`Room ${room.name} created.`);
      announce(`Room ${room.name} created.`);
      fields.name.input.focus();
    } catch (error) {
      status.error(errorText(error));
    }
  });

  async function load() {
    try {
      const rooms = await loadAll("/api/rooms?limit=200");
      rooms.forEach(updateRow);   // a room created while the list loaded keeps its row
    } catch (error) {
      status.error(errorText(error));
    }
  }

  return { element, load };
}

// --- start --------------------------------------------------------------------

async function showAdmin(user) {
  renderNav(user);
  const heading = h("h1", {}, "Administration");
  const userPart = usersSection(user);
  const roomPart = roomsSection();
  replace(main, heading, userPart.element, roomPart.element);
  focus(heading);
  await userPart.load();
  await roomPart.load();
}

function showLogin(message) {
  replace(nav);
  const view = loginView({ heading: "Admin log in", message, onSignedIn: start });
  replace(main, view.element);
  focus(view.focusTarget);
}

async function start() {
  if (!session.token) {
    showLogin();
    return;
  }
  try {
    const user = await api("GET", "/api/users/me");
    session.save(null, user);
    if (!user.is_superuser) {
      renderNav(user);
      replace(main, h("h1", {}, "Administration"),
        h("p", { role: "alert", className: "notice error" },
          "This page is for admins. Your account is not an admin account."),
        h("p", {}, h("a", { href: "./" }, "Go to the chat")));
      focus(main.querySelector("h1"));
      return;
    }
    await showAdmin(user);
  } catch (error) {
    if (!session.token) return;   // signed out: the handler below shows the form
    replace(main, h("p", { role: "alert", className: "notice error" }, errorText(error)));
  }
}

window.addEventListener("makechat:signed-out", (event) => {
  showLogin(`You have been signed out: ${event.detail}`);
});
start();
