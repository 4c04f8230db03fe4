// Pieces of a shown message that conversations add: the text with its
// @mentions marked (the person's own distinctly), the quote of the message
// a reply answers, and a thread's reply count with the button that opens
// it. Text only ever enters the page as text nodes.

import { oid } from "./api.js";
import { h, timeElement } from "./dom.js";

// The server's rule (chat/mentions.py): @ not inside a word or an address,
// then a username; a dot or dash after it ends it.
const MENTION = /(?<![\w@.-])@([A-Za-z0-9_.-]{3,32})/g;

/** True if the message mentions the person (by name, or @room). */
export function mentionsMe(message, user) {
  return Boolean(message.mentions_room
    || (message.mentions || []).some((id) => oid(id) === oid(user._id)));
}

/**
 * The message's text as nodes, each @name of someone it mentions (and
 * @room) in a <span class="mention">, the person's own with "me" too.
 */
export function mentionText(message, user) {
  const text = message.text || "";
  if (!message.mentions_room && !(message.mentions || []).length) return [text];
  const mine = user.username.toLowerCase();
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(MENTION)) {
    const name = match[1].replace(/[.-]+$/, "");
    const lower = name.toLowerCase();
    const start = match.index;
    const isRoom = lower === "room" && message.mentions_room;
    const isMe = lower === mine && mentionsMe(message, user);
    // Others: shown as mentions when the message names anyone; the server
    // knows who is a member, the text alone does not.
    if (!isRoom && !isMe && !(message.mentions || []).length) continue;
    nodes.push(text.slice(last, start));
    const end = start + 1 + name.length;
    nodes.push(h("span", { className: isRoom || isMe ? "mention me" : "mention" },
      text.slice(start, end)));
    last = end;
  }
  nodes.push(text.slice(last));
  return nodes;
}

/** An excerpt of a text, for a label: at most n characters, on one line. */
export function excerpt(text, n = 40) {
  const line = (text || "").replace(/\s+/g, " ").trim();
  return line.length > n ? `${line.slice(0, n)}…` : line;
}

/**
 * The quote above a reply: the parent's author and excerpt, and (with
 * onOpen) a button that opens the reply's thread: onOpen({_id: thread}).
 */
export function replyQuote(message, onOpen) {
  const replyTo = message.reply_to;
  if (!replyTo) return null;
  let button = null;
  if (onOpen && message.thread) {
    button = h("button", { type: "button", className: "link view-thread", "data-focus": "thread",
      "aria-label": `View the thread of ${message.author_username}'s reply` }, "View thread");
    button.addEventListener("click", () => onOpen({ _id: message.thread }));
  }
  return h("blockquote", { className: "reply-quote" },
    h("span", { className: "visually-hidden" }, "In reply to "),
    h("span", { className: "author" }, replyTo.author_username || "someone"), " ",
    replyTo.deleted ? h("em", {}, "deleted message") : excerpt(replyTo.excerpt, 100),
    button && " ", button);
}

/**
 * A thread's first message with replies: "3 replies, last at 10:42" and
 * a button that opens the thread (onOpen(message)).
 */
export function threadSummary(message, onOpen) {
  const count = message.reply_count || 0;
  if (!count) return null;
  const label = count === 1 ? "1 reply" : `${count} replies`;
  const button = h("button", { type: "button", className: "link open-thread",
    "data-focus": "thread",
    "aria-label": `${label}: open the thread of ${message.author_username}'s message` }, label);
  button.addEventListener("click", () => onOpen(message));
  return h("div", { className: "thread-summary" }, button,
    message.last_reply_at && h("span", { className: "muted" }, " last ",
      timeElement(message.last_reply_at)));
}
