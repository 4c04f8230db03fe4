// The chat page: log in, register, the room list and one room, routed by the
// URL's #fragment so the same files work at / and under /makechat/.

import { session, signOut, oid } from "./api.js";
import { loginView, registerView } from "./auth.js";
import { h, replace, focus, announce } from "./dom.js";
import { events } from "./events.js";
import { mentionsView } from "./mentions-view.js";
import { roomView } from "./room.js";
import { roomsView } from "./rooms-list.js";
import { searchView } from "./search-view.js";

// Why the tab was signed out, kept until the next log-in: the stream may
// learn of a revoked token before a reload does, and the form should say why
// either way.
const SIGNED_OUT_KEY = "makechat.signed-out";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let leaveView = null;
let roomsNotice = null;   // a notice for the rooms list (a room that went away)

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
  const roomMatch = /^#\/rooms\/([0-9a-f]{24})(?:\/messages\/([0-9a-f]{24}))?$/.exec(hash);
  if (roomMatch) {
    const view = roomView(roomMatch[1], { user: session.user, go, target: roomMatch[2] || null,
      notify: (text) => { roomsNotice = text; } });
    leaveView = view.leave;
    show(view);
    return;
  }
  const search = hash.startsWith("#/search?")
    ? new URLSearchParams(hash.slice("#/search?".length)) : null;
  const room = search && /^[0-9a-f]{24}$/.test(search.get("room")) ? search.get("room") : null;
  const other = hash === "#/mentions" ? mentionsView()
    : search ? searchView({ go, words: search.get("q") || "", room })
      : null;
  if (other) {
    leaveView = other.leave;
    show(other);
    return;
  }
  const view = roomsView({ go, message: roomsNotice });
  roomsNotice = null;
  leaveView = view.leave;
  show(view);
}

// A mention anywhere but in the room on screen is read out (that room reads
// out every new message already).
events.subscribe({}, (event) => {
  if (event.type !== "mention" || location.hash.startsWith(`#/rooms/${oid(event.room)}`)) return;
  announce(`${event.data.author_username || "Someone"} mentioned you.`);
});

window.addEventListener("makechat:signed-out", (event) => {
  events.disconnect();
  sessionStorage.setItem(SIGNED_OUT_KEY, `You have been signed out: ${event.detail}`);
  go("#/login");
});
window.addEventListener("hashchange", route);
route();
