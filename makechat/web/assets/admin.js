// The admin page (/makechat/admin): create, disable and promote users; create,
// edit and delete rooms; add and remove room members. This module signs the
// admin in and puts the sections together: admin-users.js, admin-rooms.js
// (with admin-members.js), and admin-common.js for what they share.

import { api, session, signOut, errorText } from "./api.js";
import { loginView } from "./auth.js";
import { h, replace, focus } from "./dom.js";
import { roomsSection } from "./admin-rooms.js";
import { usersSection } from "./admin-users.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");

const users = new Map();   // user id -> user, every account (for member names)

function renderNav(user) {
  replace(nav,
    h("span", { className: "whoami" }, "Signed in as ", h("strong", {}, user.username)),
    h("a", { href: "./" }, "Chat"),
    h("button", { type: "button", className: "link", onclick: async () => {
      await signOut();
      start();
    } }, "Log out"));
}

async function showAdmin(user) {
  renderNav(user);
  const heading = h("h1", {}, "Administration");
  const userPart = usersSection(user, users);
  const roomPart = roomsSection(users);
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
