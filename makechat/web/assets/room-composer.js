// The composer: the form that posts a message to the room. Enter sends,
// Shift+Enter starts a new line, and a retried send carries the same
// Idempotency-Key so that it is never posted twice. @ offers the room's
// members (mention-complete.js); a reply shows what it answers above the
// field and posts with reply_to.

import { api, errorText, randomKey, oid } from "./api.js";
import { h, notice, field, replace } from "./dom.js";
import { mentionCompletion } from "./mention-complete.js";
import { excerpt } from "./message-parts.js";

/**
 * composer({roomId, onPosted, names, id, label, replyTo}) -> {element, show,
 * focus, reply(message)}. The form starts hidden (only members may post);
 * onPosted(message) receives what the API stored, to show it at once rather
 * than when the live updates bring it. names() gives the usernames @ offers.
 * id names the field (#composer); replyTo is a message every post answers
 * (a thread's panel), fixed.
 */
export function composer({ roomId, onPosted, names = () => [], id = "composer",
  label = "Message", replyTo = null }) {
  const status = notice();
  const hintId = `${id}-hint`;
  const message = field(label, { name: "text", rows: 2, maxlength: 4000,
    "aria-describedby": hintId, autocomplete: "off" }, "textarea");
  message.input.id = id;
  message.field.querySelector("label").setAttribute("for", id);
  const completion = mentionCompletion(message.input, { names });
  message.field.append(completion.element);
  const sendButton = h("button", { type: "submit", className: "primary" }, "Send");
  const replyText = h("span", { className: "reply-text" });
  const cancelReply = h("button", { type: "button", className: "link cancel-reply" },
    "Cancel reply");
  const replyBar = h("div", { className: "replying", hidden: true, role: "status" },
    replyText, cancelReply);
  const element = h("form", { className: "composer", hidden: true,
    "aria-label": replyTo ? label : "Post a message" },
    status.element, replyBar,
    h("div", { className: "composer-row" }, message.field, sendButton),
    h("p", { id: hintId, className: "hint" },
      "Enter sends; Shift+Enter starts a new line; @ completes a name."));

  let idempotencyKey = null;
  let keyText = null;
  let answering = null;   // the message the next post replies to (the Reply button)

  function reply(parent) {
    answering = parent;
    replace(replyText, "Replying to ", h("strong", {}, parent.author_username), ": ",
      excerpt(parent.text, 80));
    replyBar.hidden = false;
    message.input.focus();
  }

  function stopReplying() {
    answering = null;
    replyBar.hidden = true;
    replace(replyText);
  }

  async function send() {
    const text = message.input.value;
    if (!text.trim()) return;
    const parent = replyTo || answering;
    // A retry of the same text after a failure reuses the key: never posted twice.
    if (keyText !== text) {
      idempotencyKey = randomKey();
      keyText = text;
    }
    status.clear();
    sendButton.disabled = true;
    try {
      const body = { room: roomId, text };
      if (parent) body.reply_to = oid(parent._id);
      const posted = await api("POST", "/api/messages", {
        body, headers: { "Idempotency-Key": idempotencyKey } });
      message.input.value = "";
      keyText = null;
      if (!replyTo) stopReplying();
      onPosted(posted);
    } catch (error) {
      status.error(errorText(error));
    } finally {
      sendButton.disabled = false;
      message.input.focus();
    }
  }

  cancelReply.addEventListener("click", () => {
    stopReplying();
    message.input.focus();
  });
  element.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  message.input.addEventListener("keydown", (event) => {
    if (completion.handleKey(event)) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    } else if (event.key === "Escape" && answering) {
      event.preventDefault();
      stopReplying();
    }
  });

  return {
    element,
    show() {
      element.hidden = false;
    },
    focus() {
      message.input.focus();
    },
    reply,
  };
}
