// The rooms list: the rooms one may see, joined ones marked, an open room
// joined with one click.

import { api, request, session, errorText, oid } from "./api.js";
import { h, notice } from "./dom.js";

/**
 * roomsView({go, message}) -> {element}. go(hash) routes (to a room just
 * joined); message is a notice to show first (a room that went away, say).
 */
export function roomsView({ go, message }) {
  const status = notice();
  const list = h("ul", { className: "room-list", "aria-labelledby": "rooms-heading" });
  const more = h("button", { type: "button", hidden: true }, "Show more rooms");
  const element = h("section", { className: "rooms" },
    h("h1", { id: "rooms-heading" }, "Rooms"),
    status.element, list, more);
  let next = null;
  if (message) status.info(message);

  async function join(room, button) {
    button.disabled = true;
    try {
      await api("POST", "/api/members", { body: { room: oid(room._id) } });
      go(`#/rooms/${oid(room._id)}`);
    } catch (error) {
      button.disabled = false;
      status.error(errorText(error));
    }
  }

  function roomItem(room) {
    const id = oid(room._id);
    const joined = Boolean(room.role);
    let action;
    if (joined) {
      action = h("a", { className: "button", href: `#/rooms/${id}` }, "Open",
        h("span", { className: "visually-hidden" }, ` ${room.name}`));
    } else if (room.is_open || session.user?.is_superuser) {
      action = h("button", { type: "button", className: "primary" }, "Join",
        h("span", { className: "visually-hidden" }, ` ${room.name}`));
      action.addEventListener("click", () => join(room, action));
    } else {
      action = h("span", { className: "muted" }, "Invitation only");
    }
    return h("li", { className: "room", "data-room-id": id },
      h("div", { className: "room-text" },
        h("span", { className: "room-name" }, room.name),
        joined && h("span", { className: "badge" }, room.role === "owner" ? "owner" : "joined"),
        room.topic && h("span", { className: "room-topic" }, room.topic)),
      action);
  }

  async function load(path) {
    try {
      more.hidden = true;
      const page = await request("GET", path);
      next = page.next;
      list.append(...page.data.map(roomItem));
      more.hidden = !next;
      if (!list.children.length) {
        list.append(h("li", { className: "muted" },
          "There are no rooms yet. An admin can create one on the admin page."));
      }
    } catch (error) {
      status.error(errorText(error));
    }
  }

  more.addEventListener("click", () => next && load(next));
  load("/api/rooms?limit=100");
  return { element };
}
