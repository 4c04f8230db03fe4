// The rooms list: the rooms one may see, joined ones marked, and for each
// joined room a badge with its unread messages. The figures come from
// GET /api/rooms and are kept live from the event stream: a message from
// someone else, a deletion, or the read marker moving (in this tab or
// another) has the room's figure asked for again, so the badge always says
// what the server counts.

import { api, request, session, errorText, oid } from "./api.js";
import { h, replace, notice } from "./dom.js";
import { events } from "./events.js";
import { searchForm } from "./search-view.js";

const PAGE = 100;
// The stored mark a room's figure is counted up to can trail its newest
// event for a moment: ask again, a few times, until it has caught up.
const BEHIND_RETRY_MS = 300;
const BEHIND_TRIES = 5;

/**
 * roomsView({go, message}) -> {element, leave}. go(hash) routes; message is
 * a notice to show first (a room that went away, say).
 */
export function roomsView({ go, message }) {
  const controller = new AbortController();
  const { signal } = controller;
  const status = notice();
  const list = h("ul", { className: "room-list", "aria-labelledby": "rooms-heading" });
  const more = h("button", { type: "button", hidden: true }, "Show more rooms");
  const element = h("section", { className: "rooms" },
    h("div", { className: "rooms-header" },
      h("h1", { id: "rooms-heading" }, "Rooms"),
      h("a", { href: "#/mentions", className: "mentions-link" }, "Mentions"),
      searchForm({ go })),
    status.element, list, more);
  const entries = new Map();   // room id -> {room, heard, item, name, unread, topic}
  const refreshing = new Map();   // room id -> {again} while its figure is asked for
  let next = null;
  let loaded = false;
  let firstFailed = false;     // the first page could not be loaded: again when the stream opens
  let waiting = [];            // events that came before the first page
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
    const entry = {
      room,
      heard: room.last_seq || 0,   // the newest seq the stream told of
      name: h("span", { className: "room-name" }, room.name),
      unread: h("span", { className: "unread", hidden: true }),
      mentions: h("span", { className: "unread mentions-unread", hidden: true }),
      topic: h("span", { className: "room-topic", hidden: !room.topic }, room.topic || ""),
    };
    entry.item = h("li", { className: "room", "data-room-id": id },
      h("div", { className: "room-text" },
        entry.name,
        room.dm ? h("span", { className: "badge dm" }, "direct")
          : joined && h("span", { className: "badge" }, room.role === "owner" ? "owner" : "joined"),
        entry.unread, entry.mentions,
        entry.topic),
      action);
    showUnread(entry);
    return entry;
  }

  function showUnread(entry) {
    const count = entry.room.role ? entry.room.unread || 0 : 0;
    entry.unread.hidden = !count;
    // Seen as a number; heard as "3 unread".
    replace(entry.unread, count ? String(count) : "",
      count ? h("span", { className: "visually-hidden" }, " unread") : null);
    // The unread messages that mention the person: "@2", heard as "2 mentioning you".
    const mentions = entry.room.role ? entry.room.mentions_unread || 0 : 0;
    entry.mentions.hidden = !mentions;
    replace(entry.mentions, mentions ? h("span", { "aria-hidden": "true" }, `@${mentions}`) : "",
      mentions ? h("span", { className: "visually-hidden" }, `${mentions} mentioning you`) : null);
  }

  /** Show a room as the server now has it: in place, or anew if its membership changed. */
  function update(entry, room) {
    const id = oid(room._id);
    if (room.role !== entry.room.role) {
      const hadFocus = entry.item.contains(document.activeElement);
      const fresh = roomItem(room);
      fresh.heard = Math.max(fresh.heard, entry.heard);
      entry.item.replaceWith(fresh.item);
      entries.set(id, fresh);
      if (hadFocus) fresh.item.querySelector("a, button")?.focus();
      return;
    }
    entry.room = room;
    replace(entry.name, room.name);
    entry.topic.textContent = room.topic || "";
    entry.topic.hidden = !room.topic;
    showUnread(entry);
  }

  /** Ask for one room's figure again; one request at a time per room. */
  async function refresh(id) {
    if (!entries.has(id)) return;
    const running = refreshing.get(id);
    if (running) {
      running.again = true;   // it asks once more when its answer is in
      return;
    }
    const mine = { again: false };
    refreshing.set(id, mine);
    try {
      for (let tries = 1; !signal.aborted; tries += 1) {
        mine.again = false;
        const room = await api("GET", `/api/rooms/${id}`, { signal });
        const entry = entries.get(id);
        if (!entry) break;
        update(entry, room);
        if (mine.again) continue;
        if ((room.last_seq || 0) >= entries.get(id).heard || tries >= BEHIND_TRIES) break;
        await new Promise((resolve) => setTimeout(resolve, BEHIND_RETRY_MS));
      }
    } catch (error) {
      if (error.status === 404) {   // deleted, or hidden from someone no longer in it
        entries.get(id)?.item.remove();
        entries.delete(id);
      }
    } finally {
      refreshing.delete(id);
    }
  }

  function receive(event) {
    if (event.type === "stream.ready") {
      if (firstFailed) {
        status.clear();
        loadFirst();
      } else if (event.fresh && loaded) {
        // Started afresh after the list was loaded: the figures may have missed a step.
        entries.forEach((entry, id) => entry.room.role && refresh(id));
      }
      return;
    }
    if (!loaded) {
      waiting.push(event);
      return;
    }
    const id = oid(event.room);
    const entry = entries.get(id);
    if (!entry) return;
    const { room } = entry;
    const data = event.data || {};
    const mine = oid(event.actor && event.actor._id) === oid(session.user?._id);
    if (typeof event.seq === "number") entry.heard = Math.max(entry.heard, event.seq);
    switch (event.type) {
      case "message":
        // Counted already if at or below the mark the figure was counted to.
        if (!mine && !data.deleted && event.seq > (room.last_seq || 0)) refresh(id);
        break;
      case "message.deleted":
        if (room.unread) refresh(id);
        break;
      case "read":
        if (data.seq > (room.read_seq || 0)) refresh(id);
        break;
      case "room.updated":
        update(entry, { ...room, ...data });
        break;
      case "member.joined":
      case "member.left":
      case "member.role":
        if (oid(data.user) === oid(session.user?._id)) refresh(id);
        break;
      case "stream.removed":
      case "stream.reset":
        refresh(id);
        break;
      default:
        break;
    }
  }

  async function load(path) {
    try {
      more.hidden = true;
      const page = await request("GET", path, { signal });
      next = page.next;
      for (const room of page.data) {
        const entry = roomItem(room);
        entries.set(oid(room._id), entry);
        list.append(entry.item);
      }
      more.hidden = !next;
      if (!list.children.length) {
        list.append(h("li", { className: "muted" },
          "There are no rooms yet. An admin can create one on the admin page."));
      }
      return true;
    } catch (error) {
      if (error.name !== "AbortError") status.error(errorText(error));
      return false;
    }
  }

  async function loadFirst() {
    firstFailed = !await load(`/api/rooms?limit=${PAGE}`);
    if (firstFailed || signal.aborted) return;
    loaded = true;
    const queued = waiting;
    waiting = [];
    queued.forEach(receive);
  }

  async function start() {
    events.subscribe({ signal }, receive);
    // The figures are counted once the stream runs, so that every change
    // after them is one it brings.
    await events.whenOpen(signal);
    if (!signal.aborted) loadFirst();
  }

  more.addEventListener("click", () => next && load(next), { signal });
  start();
  return { element, leave: () => controller.abort() };
}
