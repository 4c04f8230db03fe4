// A thread, in a panel beside the room: its first message and the replies
// (GET /api/messages?room=R&thread=ID), and a composer whose posts reply to
// it. The room view feeds it the live updates of the messages it shows.

import { api, errorText, oid } from "./api.js";
import { h, notice, focus } from "./dom.js";
import { composer } from "./room-composer.js";
import { messageList } from "./room-messages.js";

const PAGE = 200;

/**
 * threadPanel({roomId, user, signal, names, onPosted, onClose}) -> {element,
 * open(message, opener), close(), threadId(), list}. onPosted(reply) tells the
 * room of a reply posted here; onClose() runs when the panel closes.
 */
export function threadPanel({ roomId, user, signal, names, onPosted, onClose }) {
  const status = notice();
  const heading = h("h2", { id: "thread-heading", tabindex: "-1" }, "Thread");
  const closeButton = h("button", { type: "button", className: "link close-thread",
    "aria-label": "Close the thread" }, "Close");
  let list = null;
  let current = null;    // the thread's first message
  let opener = null;     // what to focus when the panel closes
  const body = h("div", { className: "thread-body" });
  const element = h("section", { className: "thread-panel", id: "thread-panel", hidden: true,
    "aria-labelledby": "thread-heading" },
  h("div", { className: "thread-header" }, heading, closeButton), status.element, body);

  async function open(message, from) {
    opener = from || null;
    current = message;
    status.clear();
    list = messageList({ user, id: "thread-messages", onError: (text) => status.error(text),
      afterDelete: () => focus(heading) });
    const reply = composer({ roomId, id: "thread-composer", label: "Reply in thread",
      replyTo: message, names, onPosted(posted) {
        list.place(posted);
        onPosted(posted);
      } });
    reply.show();
    body.replaceChildren(h("div", { className: "thread-scroller" }, list.element), reply.element);
    element.hidden = false;
    focus(heading);
    try {
      const page = await api("GET",
        `/api/messages?room=${roomId}&thread=${oid(message._id)}&limit=${PAGE}`, { signal });
      if (current !== message) return;
      page.forEach(list.place);
    } catch (error) {
      if (error.name !== "AbortError") status.error(errorText(error));
    }
  }

  function close() {
    if (element.hidden) return;
    element.hidden = true;
    current = null;
    list = null;
    body.replaceChildren();
    onClose();
    if (opener && opener.isConnected) opener.focus();
  }

  closeButton.addEventListener("click", close);
  element.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.defaultPrevented) close();
  });

  return {
    element,
    open,
    close,
    /** The id of the thread shown (null when closed). */
    threadId: () => (current ? oid(current._id) : null),
    /** The panel's message list while open (null when closed). */
    list: () => list,
  };
}
