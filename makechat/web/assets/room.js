// One room: its history (scrolling up loads older pages through `before`), new
// messages through the waiting `after` + `wait` request, the composer, editing
// and deleting one's own messages, and the members panel.

import { api, request, errorText, oid, randomKey } from "./api.js";
import { h, replace, notice, timeElement, field, announce } from "./dom.js";

const PAGE = 50;
const WAIT_SECONDS = 25;
const RETRY_MS = 2000;

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

/** Return the room view: {element, focusTarget, leave}. */
export function roomView(roomId, { user, go }) {
  const controller = new AbortController();
  const { signal } = controller;
  const messages = new Map();   // message id -> {message, item}
  let oldest = null;            // the oldest message shown (cursor for `before`)
  let hasOlder = false;
  let loadingOlder = false;
  let myMembership = null;
  let memberIds = null;         // user ids in the members panel (null: not loaded)
  let followed = null;          // the newest message the live loop has seen
  let startSeq = 0;             // the room's last seq when it opened empty

  const heading = h("h1", { id: "room-heading" }, "Room");
  const topic = h("p", { className: "room-topic", hidden: true });
  const status = notice();
  const olderButton = h("button", { type: "button", className: "older", hidden: true },
    "Load older messages");
  const historyStart = h("p", { className: "muted history-start", hidden: true },
    "This is the start of the room's history.");
  const list = h("ol", { className: "messages", id: "messages", "aria-label": "Messages" });
  const scroller = h("div", { className: "scroller", id: "message-scroller", tabindex: "0",
    "aria-label": "Message history" }, historyStart, olderButton, list);
  const composerStatus = notice();
  const composer = field("Message", { name: "text", rows: 2, maxlength: 4000,
    "aria-describedby": "composer-hint", autocomplete: "off" }, "textarea");
  composer.input.id = "composer";
  composer.field.querySelector("label").setAttribute("for", "composer");
  const sendButton = h("button", { type: "submit", className: "primary" }, "Send");
  const form = h("form", { className: "composer", hidden: true, "aria-label": "Post a message" },
    composerStatus.element,
    h("div", { className: "composer-row" }, composer.field, sendButton),
    h("p", { id: "composer-hint", className: "hint" }, "Enter sends; Shift+Enter starts a new line."));
  const joinArea = h("div", { className: "join-area", hidden: true });
  const membersList = h("ul", { className: "member-list", id: "member-list" });
  const membersHeading = h("h2", { id: "members-heading" }, "Members");
  const leaveButton = h("button", { type: "button", hidden: true }, "Leave room");
  const membersPanel = h("aside", { className: "members", "aria-labelledby": "members-heading" },
    membersHeading, membersList, leaveButton);
  const element = h("div", { className: "room-view" },
    h("div", { className: "room-main" },
      h("div", { className: "room-header" },
        h("a", { href: "#/rooms", className: "back" }, "← All rooms"),
        heading, topic),
      status.element, joinArea, scroller, form),
    membersPanel);

  // --- rendering messages -------------------------------------------------

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  }

  function scrollToBottom() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  function renderMessage(message) {
    const id = oid(message._id);
    const mine = oid(message.author) === oid(user._id);
    const text = h("p", { className: "text" }, message.text);
    const meta = h("div", { className: "meta" },
      h("span", { className: "author" }, message.author_username || "someone"), " ",
      timeElement(message.created),
      message.edited && h("span", { className: "edited" }, " (edited)"));
    const item = h("li", { className: mine ? "message mine" : "message", "data-id": id,
      "data-seq": message.seq }, meta, text);
    if (mine) {
      const preview = message.text.length > 40 ? `${message.text.slice(0, 40)}…` : message.text;
      const edit = h("button", { type: "button", className: "link edit",
        "aria-label": `Edit your message: ${preview}` }, "Edit");
      const remove = h("button", { type: "button", className: "link delete",
        "aria-label": `Delete your message: ${preview}` }, "Delete");
      edit.addEventListener("click", () => startEdit(id, edit));
      remove.addEventListener("click", () => deleteMessage(id));
      item.append(h("div", { className: "actions" }, edit, remove));
    }
    return item;
  }

  function place(message) {
    const id = oid(message._id);
    const known = messages.get(id);
    if (known && known.message.text === message.text && known.message.edited === message.edited) {
      return false;   // the live loop echoing a message this page posted: keep its element
    }
    const item = renderMessage(message);
    if (known) {
      known.item.replaceWith(item);
      messages.set(id, { message, item });
      return false;
    }
    messages.set(id, { message, item });
    // Keep the list in seq order whatever order the pages and posts arrive in.
    let before = null;
    for (let node = list.lastElementChild; node; node = node.previousElementSibling) {
      if (Number(node.dataset.seq) > message.seq) before = node;
      else break;
    }
    list.insertBefore(item, before);
    if (!oldest || message.seq < oldest.seq) oldest = message;
    return true;
  }

  function addNew(batch, { fromPoll = false } = {}) {
    const stick = nearBottom();
    let mineAdded = false;
    for (const message of batch) {
      if (place(message) && fromPoll) {
        if (oid(message.author) === oid(user._id)) mineAdded = true;
        else announce(`${message.author_username}: ${message.text}`);
        if (memberIds && !memberIds.has(oid(message.author))) {
          memberIds.add(oid(message.author));   // someone new joined: refresh the panel
          loadMembers();
        }
      }
    }
    if (stick || mineAdded) scrollToBottom();
  }

  // --- history ------------------------------------------------------------

  async function loadLatest() {
    const page = await api("GET", `/api/messages?room=${roomId}&limit=${PAGE}`, { signal });
    setHasOlder(page.length === PAGE);
    if (page.length) followed = page[page.length - 1];
    addNew(page);
    scrollToBottom();
    await fillScroller();
  }

  function setHasOlder(value) {
    hasOlder = value;
    olderButton.hidden = !value;
    historyStart.hidden = value;
  }

  /** Load the page before the oldest message shown; false if that failed. */
  async function loadOlder() {
    if (!hasOlder || loadingOlder || !oldest) return true;
    loadingOlder = true;
    olderButton.disabled = true;
    try {
      const page = await api("GET",
        `/api/messages?room=${roomId}&before=${oid(oldest._id)}&limit=${PAGE}`, { signal });
      const heightBefore = scroller.scrollHeight;
      const topBefore = scroller.scrollTop;
      page.forEach(place);
      // Keep the message the person was looking at where it was.
      scroller.scrollTop = topBefore + (scroller.scrollHeight - heightBefore);
      setHasOlder(page.length === PAGE);
      return true;
    } catch (error) {
      if (error.name !== "AbortError") status.error(errorText(error));
      return false;
    } finally {
      loadingOlder = false;
      olderButton.disabled = false;
    }
  }

  // When the history does not fill the screen there is nothing to scroll: load more.
  async function fillScroller() {
    while (hasOlder && !signal.aborted && scroller.scrollHeight <= scroller.clientHeight) {
      if (!await loadOlder()) return;
    }
  }

  scroller.addEventListener("scroll", () => {
    if (scroller.scrollTop < 40) loadOlder();
  });
  olderButton.addEventListener("click", loadOlder);

  // --- live updates -------------------------------------------------------

  async function follow() {
    while (!signal.aborted) {
      try {
        // The cursor moves only with what this loop and the first page saw: a
        // message posted here may commit before an earlier one from someone else.
        const cursor = followed ? oid(followed._id) : String(startSeq);
        const asked = Date.now();
        const batch = await api("GET",
          `/api/messages?room=${roomId}&after=${cursor}&wait=${WAIT_SECONDS}&limit=${PAGE}`,
          { signal });
        if (batch.length) followed = batch[batch.length - 1];
        addNew(batch, { fromPoll: true });
        status.clear();
        // A server that answers "nothing new" at once (shutting down, or a proxy
        // cutting the wait short) must not be asked again in a tight loop.
        if (!batch.length && Date.now() - asked < 1000) await sleep(RETRY_MS, signal);
        else if (!batch.length) reconcile();
      } catch (error) {
        if (signal.aborted || error.name === "AbortError") return;
        if (error.status === 403 || error.status === 404) {
          status.error(errorText(error));
          return;
        }
        status.error(`${errorText(error)} Retrying…`);
        await sleep(RETRY_MS, signal);
      }
    }
  }

  // Waiting requests bring only new messages; edits and deletions by others
  // are caught up with the latest page when a wait ends empty or the tab
  // comes back into view.
  let reconciling = false;

  async function reconcile() {
    if (reconciling || signal.aborted || !followed) return;
    reconciling = true;
    try {
      const page = await api("GET", `/api/messages?room=${roomId}&limit=${PAGE}`, { signal });
      const current = new Set(page.map((message) => oid(message._id)));
      const lowest = page.length === PAGE ? page[0].seq : -Infinity;
      // Everything up to what the live loop has seen is final; a message in
      // that range missing from the latest page was deleted.
      const highest = Math.max(followed.seq, page.length ? page[page.length - 1].seq : 0);
      for (const [id, entry] of messages) {
        const { seq } = entry.message;
        if (seq >= lowest && seq <= highest && !current.has(id)
            && !entry.item.querySelector(".edit-form")) {
          entry.item.remove();
          messages.delete(id);
        }
      }
      page.forEach((message) => {
        const known = messages.get(oid(message._id));
        if (!known || !known.item.querySelector(".edit-form")) place(message);
      });
    } catch (error) {
      if (error.name !== "AbortError") status.error(errorText(error));
    } finally {
      reconciling = false;
    }
  }

  function onVisible() {
    if (document.visibilityState === "visible") reconcile();
  }
  document.addEventListener("visibilitychange", onVisible);

  // --- posting, editing, deleting -----------------------------------------

  let idempotencyKey = null;
  let keyText = null;

  async function send() {
    const text = composer.input.value;
    if (!text.trim()) return;
    // A retry of the same text after a failure reuses the key: never posted twice.
    if (keyText !== text) {
      idempotencyKey = randomKey();
      keyText = text;
    }
    composerStatus.clear();
    sendButton.disabled = true;
    try {
      const message = await api("POST", "/api/messages", {
        body: { room: roomId, text }, headers: { "Idempotency-Key": idempotencyKey } });
      composer.input.value = "";
      keyText = null;
      place(message);
      scrollToBottom();
    } catch (error) {
      composerStatus.error(errorText(error));
    } finally {
      sendButton.disabled = false;
      composer.input.focus();
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  composer.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });

  function startEdit(id, editButton) {
    const entry = messages.get(id);
    if (!entry) return;
    const { item, message } = entry;
    const editStatus = notice();
    const input = field("Edit message", { rows: 2, maxlength: 4000 }, "textarea");
    input.input.value = message.text;
    const cancel = h("button", { type: "button" }, "Cancel");
    const editForm = h("form", { className: "edit-form" }, editStatus.element, input.field,
      h("div", { className: "actions" }, h("button", { type: "submit", className: "primary" }, "Save"),
        cancel));
    const textNode = item.querySelector(".text");
    const actions = item.querySelector(".actions");
    textNode.hidden = true;
    actions.hidden = true;
    item.append(editForm);
    const close = () => {
      editForm.remove();
      textNode.hidden = false;
      actions.hidden = false;
      editButton.focus();
    };
    cancel.addEventListener("click", close);
    editForm.addEventListener("keydown", (event) => {
      if (event.key === "Escape") close();
    });
    editForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const updated = await api("PATCH", `/api/messages/${id}`, { body: { text: input.input.value } });
        place(updated);
        const fresh = messages.get(id).item.querySelector(".edit");
        if (fresh) fresh.focus();
        announce("Message edited.");
      } catch (error) {
        editStatus.error(errorText(error));
      }
    });
    input.input.focus();
  }

  async function deleteMessage(id) {
    if (!window.confirm("Delete this message? This cannot be undone.")) return;
    try {
      await api("DELETE", `/api/messages/${id}`);
      const entry = messages.get(id);
      if (entry) entry.item.remove();
      messages.delete(id);
      announce("Message deleted.");
      composer.input.focus();
    } catch (error) {
      status.error(errorText(error));
    }
  }

  // --- members --------------------------------------------------------------

  async function loadMembers() {
    try {
      const members = [];
      let path = `/api/members?room=${roomId}&limit=200`;
      while (path && !signal.aborted) {
        const page = await request("GET", path, { signal });
        members.push(...page.data);
        path = page.next;
      }
      members.sort((a, b) => (a.role === "owner" ? 0 : 1) - (b.role === "owner" ? 0 : 1)
        || a.username.localeCompare(b.username));
      memberIds = new Set(members.map((member) => oid(member.user)));
      myMembership = members.find((member) => oid(member.user) === oid(user._id)) || null;
      leaveButton.hidden = !myMembership;
      replace(membersHeading, `Members (${members.length})`);
      replace(membersList, ...members.map((member) => h("li", { className: "member" },
        h("span", { className: "member-name" }, member.username),
        member.role === "owner" && h("span", { className: "badge" }, "owner"))));
    } catch (error) {
      if (error.name !== "AbortError") status.error(errorText(error));
    }
  }

  leaveButton.addEventListener("click", async () => {
    if (!myMembership || !window.confirm("Leave this room?")) return;
    try {
      await api("DELETE", `/api/members/${oid(myMembership._id)}`);
      go("#/rooms");
    } catch (error) {
      status.error(errorText(error));
    }
  });

  // --- start ----------------------------------------------------------------

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
    scroller.hidden = true;
  }

  async function start() {
    try {
      const room = await api("GET", `/api/rooms/${roomId}`, { signal });
      replace(heading, room.name);
      document.title = `${room.name} · makechat`;
      if (room.topic) {
        topic.textContent = room.topic;
        topic.hidden = false;
      }
      loadMembers();
      if (!room.role) {
        showJoin(room);
        return;
      }
      form.hidden = false;
      startSeq = room.last_seq || 0;
      await loadLatest();
      follow();
    } catch (error) {
      if (error.name !== "AbortError") status.error(errorText(error));
    }
  }

  start();
  return {
    element,
    focusTarget: heading,
    leave() {
      controller.abort();
      document.removeEventListener("visibilitychange", onVisible);
      document.title = "makechat";
    },
  };
}
