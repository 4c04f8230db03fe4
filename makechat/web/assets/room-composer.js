// The composer: the form that posts a message to the room. Enter sends,
// Shift+Enter starts a new line, and a retried send carries the same
// Idempotency-Key so that it is never posted twice.

import { api, errorText, randomKey } from "./api.js";
import { h, notice, field } from "./dom.js";

/**
 * composer({roomId, onPosted}) -> {element, show, focus}. The form starts
 * hidden (only members may post); onPosted(message) receives what the API
 * stored, to show it at once rather than when the live updates bring it.
 */
export function composer({ roomId, onPosted }) {
  const status = notice();
  const message = field("Message", { name: "text", rows: 2, maxlength: 4000,
    "aria-describedby": "composer-hint", autocomplete: "off" }, "textarea");
  message.input.id = "composer";
  message.field.querySelector("label").setAttribute("for", "composer");
  const sendButton = h("button", { type: "submit", className: "primary" }, "Send");
  const element = h("form", { className: "composer", hidden: true, "aria-label": "Post a message" },
    status.element,
    h("div", { className: "composer-row" }, message.field, sendButton),
    h("p", { id: "composer-hint", className: "hint" }, "Enter sends; Shift+Enter starts a new line."));

  let idempotencyKey = null;
  let keyText = null;

  async function send() {
    const text = message.input.value;
    if (!text.trim()) return;
    // A retry of the same text after a failure reuses the key: never posted twice.
    if (keyText !== text) {
      idempotencyKey = randomKey();
      keyText = text;
    }
    status.clear();
    sendButton.disabled = true;
    try {
      const posted = await api("POST", "/api/messages", {
        body: { room: roomId, text }, headers: { "Idempotency-Key": idempotencyKey } });
      message.input.value = "";
      keyText = null;
      onPosted(posted);
    } catch (error) {
      status.error(errorText(error));
    } finally {
      sendButton.disabled = false;
      message.input.focus();
    }
  }

  element.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  message.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
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
  };
}
