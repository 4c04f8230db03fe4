// One room: the view that puts its parts together (the message list, its
// history, live updates, the read marker, the composer, the members panel,
// a thread's panel and, for owners and admins, the webhooks panel, one module
// each), shows the room's name and topic or the offer to
// join, and routes what one part learns to the others. Leaving the room
// aborts one AbortController, which every part's requests, subscriptions and
// listeners share.

import { api, errorText, oid } from "./api.js";
import { h, replace, notice, announce } from "./dom.js";
import { events } from "./events.js";
import { composer } from "./room-composer.js";
import { historyPane } from "./room-history.js";
import { liveFollower } from "./room-live.js";
import { membersPanel } from "./room-members.js";
import { messageList } from "./room-messages.js";
import { readMarker } from "./room-read.js";
import { webhooksPanel } from "./room-webhooks.js";
import { searchForm } from "./search-view.js";
import { threadPanel } from "./thread-panel.js";

const RETRY_MS = 2000;

/**
 * Return the room view: {element, focusTarget, leave}. go(hash) routes;
 * notify(text) leaves a notice for the rooms list (when the room goes away);
 * target is the id of a message to show (a search result, a mention).
 */
export function roomView(roomId, { user, go, notify, target = null }) {
  const controller = new AbortController();
  const { signal } = controller;
  const status = notice();
  const showError = (text) => status.error(text);
  let roomName = "this room";
  let leftBy = null;   // who ended the person's membership (a member.left event), if known

  const heading = h("h1", { id: "room-heading" }, "Room");
  const topic = h("p", { className: "room-topic", hidden: true });
  const joinArea = h("div", { className: "join-area", hidden: true });

  const list = messageList({ user, onError: showError, afterDelete: () => compose.focus(),
    onReply: (message) => compose.reply(message),
    onOpenThread: (message) => {
      element.classList.add("with-thread");
      thread.open(message, document.activeElement);
    } });
  const history = historyPane({ roomId, list, signal, onError: showError });
  const compose = composer({ roomId, names: () => members.names(), onPosted(message) {
    if (list.place(message)) countReplies(message);
    inThread(message)?.place(message);
    history.scrollToBottom();
  } });
  const members = membersPanel({ roomId, user, signal, onError: showError, go,
    onLeft: () => go("#/rooms") });
  const thread = threadPanel({ roomId, user, signal, names: () => members.names(),
    onPosted(reply) {
      if (list.place(reply)) countReplies(reply);
    },
    onClose: () => element.classList.remove("with-thread") });
  // Both lists a message may be shown in: the room's, and the open thread's.
  const lists = () => [list, thread.list()].filter(Boolean);
  const inThread = (message) => (message.thread && oid(message.thread) === thread.threadId()
    ? thread.list() : null);
  const refetching = new Map();   // message id -> asked again while in flight
  const read = readMarker({ roomId, signal });
  const webhooks = webhooksPanel({ roomId, signal });
  const webhooksButton = h("button", { type: "button", className: "link webhooks-toggle",
    hidden: true, "aria-expanded": "false", "aria-controls": "room-webhooks" }, "Webhooks");
  webhooks.element.id = "room-webhooks";
  webhooksButton.addEventListener("click", () => {
    const opening = webhooks.element.hidden;
    webhooksButton.setAttribute("aria-expanded", String(opening));
    if (opening) webhooks.open();
    else webhooks.close();
  }, { signal });
  const live = liveFollower({
    roomId,
    signal,
    known: list.known,
    onNew: addNew,
    // An update must not take away a message the person is editing.
    onChanged(message) {
      if (!list.isEditing(oid(message._id))) list.place(message);
    },
    onEdited(id, text, edited) {
      for (const one of lists()) {
        const shown = one.get(id);
        if (!shown || one.isEditing(id)) continue;
        if (shown.text === text && shown.edited) continue;   // this page's own edit, echoed
        one.place({ ...shown, text, edited });
      }
    },
    onDeleted(id) {
      for (const one of lists()) {
        if (!one.isEditing(id)) one.remove(id);
        // Its replies quote it no more (as the server shows them now).
        for (const { id: shownId } of one.known()) {
          const shown = one.get(shownId);
          if (shown.reply_to && oid(shown.reply_to._id) === id && !shown.reply_to.deleted) {
            one.place({ ...shown, reply_to: { ...shown.reply_to, excerpt: "", deleted: true } });
          }
        }
      }
    },
    onReaction: refetch,
    onMembers(event) {
      const mine = oid(event.data.user) === oid(user._id);
      if (mine && event.type === "member.left") {
        leftBy = oid(event.actor && event.actor._id);   // stream.removed follows
        return;
      }
      members.load();
    },
    onRoom: showRoom,
    onRead: (seq) => read.moved(seq),
    onRemoved() {
      notify(leftBy === oid(user._id) ? `You left ${roomName}.`
        : leftBy ? `You were removed from ${roomName}.`
          : `${roomName} is no longer available to you.`);
      go("#/rooms");
    },
    onSeq: (seq) => read.saw(seq),
    onError: showError,
  });

  const element = h("div", { className: "room-view" },
    h("div", { className: "room-main" },
      h("div", { className: "room-header" },
        h("a", { href: "#/rooms", className: "back" }, "← All rooms"),
        heading, topic, webhooksButton),
      status.element, webhooks.element, joinArea, history.element, compose.element),
    h("div", { className: "room-side" },
      searchForm({ go, room: roomId, id: "room-search" }), thread.element, members.element));

  // A reaction or a reply changed a message's counts: show it as the server counts now
  // (one request at a time per message, once more if another change came).
  async function refetch(id) {
    if (refetching.has(id)) {
      refetching.set(id, true);
      return;
    }
    if (!lists().some((one) => one.get(id))) return;
    refetching.set(id, false);
    try {
      const message = await api("GET", `/api/messages/${id}`, { signal });
      for (const one of lists()) if (one.get(id) && !one.isEditing(id)) one.place(message);
    } catch (error) {
      if (error.name !== "AbortError" && error.status !== 404) showError(errorText(error));
    } finally {
      const again = refetching.get(id);
      refetching.delete(id);
      if (again && !signal.aborted) refetch(id);
    }
  }

  // A new reply: its thread's first message counts it. Read again rather
  // than added up here: the count the history showed may include it already.
  function countReplies(message) {
    if (message.thread) refetch(oid(message.thread));
  }

  // Others' messages are read out; the view follows them only if the person
  // was already at the bottom, but always brings their own into view.
  function addNew(batch) {
    const stick = history.nearBottom();
    let mineAdded = false;
    for (const message of batch) {
      inThread(message)?.place(message, true);
      if (list.place(message, true)) {
        countReplies(message);
        if (oid(message.author) === oid(user._id)) mineAdded = true;
        else announce(`${message.author_username}: ${message.text}`);
        members.sawAuthor(oid(message.author));
      }
    }
    if (stick || mineAdded) history.scrollToBottom();
  }

  function showJoin(room) {
    // Admins may enter any room; others only open ones.
    const mayJoin = room.is_open || user.is_superuser;
    replace(joinArea,
      h("p", {}, mayJoin ? "You are not a member of this room yet."
        : "This room is by invitation only; an owner or admin can add you."),
      mayJoin && h("button", { type: "button", className: "primary", onclick: async (event) => {
        event.currentTarget.disabled = true;
        try {
          await api("POST", "/api/members", { body: { room: roomId } });
          go(`#/rooms/${roomId}`);
        } catch (error) {
          status.error(errorText(error));
        }
      } }, "Join this room"));
    joinArea.hidden = false;
    history.element.hidden = true;
  }

  /** Show the room's name and topic (all of a room, or the fields that changed). */
  function showRoom(room) {
    if (room.name !== undefined) {
      roomName = room.name;
      replace(heading, room.name);
      document.title = `${room.name} · makechat`;
    }
    if (room.topic !== undefined) {
      topic.textContent = room.topic || "";
      topic.hidden = !room.topic;
    }
  }

  async function open() {
    // The history is loaded once the stream runs, so that every change
    // after the page is one the stream brings.
    const [room] = await Promise.all([api("GET", `/api/rooms/${roomId}`, { signal }),
      events.whenOpen(signal)]);
    showRoom(room);
    if (room.dm) members.direct();
    members.load();
    // Owners and admins manage the room's webhooks (the API checks it again).
    webhooksButton.hidden = !(room.role === "owner" || user.is_superuser);
    if (!room.role) {
      showJoin(room);
      return;
    }
    compose.show();
    const page = await history.loadLatest();
    if (room.unread) {
      const divider = list.markUnread(room.read_seq || 0);
      if (!target) history.reveal(divider);
    }
    live.start();
    const newest = page.length ? page[page.length - 1].seq : 0;
    read.open(room.read_seq, Math.max(room.last_seq || 0, newest));
    if (target) await jump(target);
  }

  /** Show the message asked for (the room runs on whether or not it is found). */
  async function jump(id) {
    let found = false;
    try {
      found = await history.jumpTo(id);
    } catch (error) {
      if (error.name === "AbortError") return;
      if (error.status !== 404) {
        status.error(errorText(error));
        return;
      }
    }
    if (!found) status.error("That message is no longer in this room.");
  }

  async function start() {
    for (let retried = false; ; retried = true) {
      try {
        await open();
        if (retried) status.clear();
        return;
      } catch (error) {
        if (error.name === "AbortError") return;
        if (error.status !== 0) {
          status.error(errorText(error));
          return;
        }
        // No connection: try again once the stream is back (or in a while).
        status.error(`${errorText(error)} Retrying…`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        await events.whenOpen(signal, RETRY_MS * 5);
        if (signal.aborted) return;
      }
    }
  }

  start();
  return {
    element,
    focusTarget: heading,
    leave() {
      controller.abort();
      document.title = "makechat";
    },
  };
}
