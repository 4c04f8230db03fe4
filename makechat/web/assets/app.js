// The chat page: log in, register, the room list and one room, routed by the
// URL's #fragment so the same files work at / and under /makechat/.

import { api, request, session, signOut, errorText, oid } from "./api.js";
import { loginView, registerView } from "./auth.js";
import { h, replace, notice, focus } from "./dom.js";
import { events } from "./events.js";
import { roomView } from "./room.js";

// Why the tab was signed out, kept until the next log-in: the stream may
// learn of a revoked token before a reload does, and the form should say why
// either way.
const SIGNED_OUT_KEY = "makechat.signed-out";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let leaveView = null;

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function renderNav() {
  const user = session.user;
  if (!session.token || !user) {
    replace(nav);
    return;
  }
  replace(nav,
    h("span", { className: "whoami" }, "Signed in as ", h("strong", {}, user.username)),
    h("a", { href: "#/rooms" }, "Rooms"),
    user.is_superuser && h("a", { href: "admin" }, "Admin"),
    h("button", { type: "button", className: "link", onclick: async () => {
      events.disconnect();   // before the token is revoked: this is no surprise end
      await signOut();
      go("#/login");
    } }, "Log out"));
}

function show(view) {
  replace(main, view.element);
  focus(view.focusTarget || main.querySelector("h1"));
}

function roomsView() {
  const status = notice();
  const list = h("ul", { className: "room-list", "aria-labelledby": "rooms-heading" });
  const more = h("button", { type: "button", hidden: true }, "Show more rooms");
  const element = h("section", { className: "rooms" },
    h("h1", { id: "rooms-heading" }, "Rooms"),
    status.element, list, more);
  let next = null;

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

function route() {
  if (leaveView) {
    leaveView();
    leaveView = null;
  }
  renderNav();
  const hash = location.hash || "#/";
  const signedIn = Boolean(session.token);
  if (signedIn) {
    sessionStorage.removeItem(SIGNED_OUT_KEY);
    events.connect();   // once per page: every view subscribes to the one stream
  } else {
    events.disconnect();
  }
  if (hash === "#/register") {
    show(registerView({ onSignedIn: () => go("#/rooms"), loginHref: "#/login" }));
    return;
  }
  if (!signedIn || hash === "#/login") {
    if (signedIn) {
      go("#/rooms");
      return;
    }
    const message = sessionStorage.getItem(SIGNED_OUT_KEY);
    show(loginView({ onSignedIn: () => go("#/rooms"), registerHref: "#/register", message }));
    return;
  }
  const roomMatch = /^#\/rooms\/([0-9a-f]{24})$/.exec(hash);
  if (roomMatch) {
    const view = roomView(roomMatch[1], { user: session.user, go });
    leaveView = view.leave;
    show(view);
    return;
  }
  show(roomsView());
}

window.addEventListener("makechat:signed-out", (event) => {
  events.disconnect();
  sessionStorage.setItem(SIGNED_OUT_KEY, `You have been signed out: ${event.detail}`);
  go("#/login");
});
window.addEventListener("hashchange", route);
route();
