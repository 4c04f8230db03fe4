// The rooms section of the admin page: the table of every room, creating,
// editing and deleting one, and the panel of its members (admin-members.js).

import { api, errorText, oid } from "./api.js";
import { h, replace, notice, field, focus, busy, announce } from "./dom.js";
import { loadAll, yesNo } from "./admin-common.js";
import { manageMembers } from "./admin-members.js";

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

/** Return {element, load}; ``users`` (id -> user) is every account. */
export function roomsSection(users) {
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
          onclick: (event) => manageMembers(room, event.currentTarget,
            { panel, users, updateRow, closePanel }) }, "Members"),
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
