// The members panel of the admin page's rooms section: who is in a room,
// adding a member or an owner by username, removing one.

import { api, errorText, oid } from "./api.js";
import { h, replace, notice, field, focus, busy } from "./dom.js";
import { loadAll } from "./admin-common.js";

/** Show a room's members in ``panel``; ``users`` (id -> user) names the
 * accounts one may add, ``updateRow`` redraws the room's row (its member
 * count) and ``closePanel(opener)`` closes the panel. */
export async function manageMembers(room, opener, { panel, users, updateRow, closePanel }) {
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
  // Focus first: moving it after the list loads could pull it away from a
  // field someone has started typing in.
  focus(document.getElementById("room-panel-heading"));
  try {
    await refresh();
  } catch (error) {
    panelStatus.error(errorText(error));
  }
}
