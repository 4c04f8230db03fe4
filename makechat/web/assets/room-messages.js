// The list of a room's messages: one element per message, kept in seq order
// whatever order pages, posts and live updates arrive in, and the Edit and
// Delete actions on one's own messages. It knows nothing of where messages
// come from; history, live updates and the composer all go through place().

import { api, errorText, oid } from "./api.js";
import { h, notice, timeElement, field, announce } from "./dom.js";
import { excerpt, mentionsMe, mentionText, replyQuote, threadSummary } from "./message-parts.js";
import { reactionBar } from "./reactions.js";

/**
 * messageList({user, onError, afterDelete, onReply, onOpenThread, id}) ->
 * {element, place, remove, isEditing, markUnread, get, known, oldest,
 * highlight}. onError(text) reports a failed deletion or reaction;
 * afterDelete() runs once one's own message is gone (to move focus on);
 * onReply(message) and onOpenThread(message) are the Reply and thread
 * buttons (left out without them).
 */
export function messageList({ user, onError, afterDelete, onReply, onOpenThread,
  id: listId = "messages" }) {
  const messages = new Map();   // message id -> {message, item}
  let oldest = null;            // the oldest message placed (the history's `before` cursor)
  let divider = null;           // the "New messages" line, if the room opened with unread ones
  const element = h("ol", { className: "messages", id: listId, "aria-label": "Messages" });

  function renderMessage(message) {
    const id = oid(message._id);
    const mine = oid(message.author) === oid(user._id);
    const text = h("p", { className: "text" }, mentionText(message, user));
    const meta = h("div", { className: "meta" },
      h("span", { className: "author" }, message.author_username || "someone"),
      message.is_bot && h("span", { className: "badge bot", title: "A bot account" }, "bot"), " ",
      timeElement(message.created),
      message.edited && h("span", { className: "edited" }, " (edited)"),
      mentionsMe(message, user) && h("span", { className: "badge mention-badge" }, "mentions you"));
    const classes = ["message", mine && "mine", message.is_bot && "from-bot",
      mentionsMe(message, user) && "mentions-me"];
    const item = h("li", { className: classes.filter(Boolean).join(" "), "data-id": id,
      "data-seq": message.seq }, meta, replyQuote(message, onOpenThread), text,
    onOpenThread && threadSummary(message, onOpenThread));
    const reactions = reactionBar(message, { onError, onChanged: (changed, emoji) => {
      place(changed);
      messages.get(id)?.item.querySelector(`.reaction[data-emoji="${emoji}"], .add-reaction`)
        ?.focus();
    } });
    const preview = excerpt(message.text);
    const actions = h("div", { className: "actions" });
    if (onReply) {
      const reply = h("button", { type: "button", className: "link reply", "data-focus": "reply",
        "aria-label": `Reply to ${message.author_username}: ${preview}` }, "Reply");
      reply.addEventListener("click", () => onReply(message));
      actions.append(reply);
    }
    if (mine) {
      const edit = h("button", { type: "button", className: "link edit", "data-focus": "edit",
        "aria-label": `Edit your message: ${preview}` }, "Edit");
      const remove = h("button", { type: "button", className: "link delete", "data-focus": "delete",
        "aria-label": `Delete your message: ${preview}` }, "Delete");
      edit.addEventListener("click", () => startEdit(id, edit));
      remove.addEventListener("click", () => deleteMessage(id));
      actions.append(edit, remove);
    }
    item.append(h("div", { className: "message-foot" }, reactions, actions));
    return item;
  }

  // What a message's element shows: a copy that shows the same needs no new element.
  function shows(message) {
    return JSON.stringify([message.text, message.edited, message.reactions || [],
      message.reply_count || 0, message.last_reply_at || null, message.reply_to || null]);
  }

  /**
   * Show a message as it now is; true only if it was not shown before.
   * partial: it is an event's data, without reaction or reply counts.
   */
  function place(message, partial) {
    const id = oid(message._id);
    const known = messages.get(id);
    if (known && partial === true) {   // (not forEach's index)
      // An event's data counts no reactions or replies: keep those shown.
      const { reactions, reply_count: replies, last_reply_at: lastReply } = known.message;
      message = { ...message, reactions, reply_count: replies, last_reply_at: lastReply };
    }
    if (known && shows(known.message) === shows(message)) {
      return false;   // the live loop echoing a message this page posted: keep its element
    }
    const item = renderMessage(message);
    if (known) {
      const focused = known.item.contains(document.activeElement)
        && document.activeElement.dataset.focus;
      if (known.item.classList.contains("highlight")) item.classList.add("highlight");
      known.item.replaceWith(item);
      messages.set(id, { message, item });
      if (focused) item.querySelector(`[data-focus="${focused}"]`)?.focus();
      return false;
    }
    messages.set(id, { message, item });
    insertInOrder(item, message.seq);
    if (!oldest || message.seq < oldest.seq) oldest = message;
    return true;
  }

  // Keep the list in seq order whatever order the pages and posts arrive in.
  function insertInOrder(item, seq) {
    let before = null;
    for (let node = element.lastElementChild; node; node = node.previousElementSibling) {
      if (Number(node.dataset.seq) > seq) before = node;
      else break;
    }
    element.insertBefore(item, before);
  }

  /**
   * Show the "New messages" divider after the read marker (readSeq) and
   * return it. Its data-seq lies between two seqs, so the messages after the
   * marker, and older pages loaded later, take their places around it.
   */
  function markUnread(readSeq) {
    if (divider) divider.remove();
    divider = h("li", { className: "new-messages", id: "new-messages", "data-seq": readSeq + 0.5 },
      h("span", {}, "New messages"));
    insertInOrder(divider, readSeq + 0.5);
    return divider;
  }

  function remove(id) {
    const entry = messages.get(id);
    if (entry) entry.item.remove();
    messages.delete(id);
  }

  // An open editor holds what the person is typing: updates from elsewhere
  // must not replace or remove that message under them.
  function isEditing(id) {
    const entry = messages.get(id);
    return Boolean(entry && entry.item.querySelector(".edit-form"));
  }

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
      if (event.key === "Escape") {
        event.preventDefault();   // the editor's, not the thread panel's around it
        close();
      }
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
      remove(id);
      announce("Message deleted.");
      afterDelete();
    } catch (error) {
      onError(errorText(error));
    }
  }

  /** Mark one message as the one asked for (a search result, a mention). */
  function highlight(id) {
    element.querySelectorAll(".message.highlight").forEach((node) => node.classList.remove("highlight"));
    const entry = messages.get(id);
    if (entry) entry.item.classList.add("highlight");
    return entry?.item;
  }

  return {
    element,
    place,
    highlight,
    remove,
    isEditing,
    markUnread,
    /** The message shown with that id, as last placed (undefined if none). */
    get: (id) => messages.get(id)?.message,
    /** The id and seq of every message shown (a copy: safe to remove while iterating). */
    known: () => Array.from(messages, ([id, entry]) => ({ id, seq: entry.message.seq })),
    oldest: () => oldest,
  };
}
