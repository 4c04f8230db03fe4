// A list of messages from many rooms (mentions, search results), newest
// first, each with its room, author and time, and a link into the room's
// history at that message (#/rooms/R/messages/M). Pages on with the API's
// Link header ("Show older").

import { request, errorText, oid } from "./api.js";
import { h, notice, timeElement } from "./dom.js";

/** The in-page address of one message in its room's history. */
export function messageHref(message) {
  return `#/rooms/${oid(message.room)}/messages/${oid(message._id)}`;
}

async function roomNames(signal) {
  const names = new Map();
  let path = "/api/rooms?limit=200";
  while (path && !signal.aborted) {
    const page = await request("GET", path, { signal });
    page.data.forEach((room) => names.set(oid(room._id), room.name));
    path = page.next;
  }
  return names;
}

/**
 * messageResults({path, signal, label, empty, text}) -> {element, load}.
 * path is the first page's API path; text(message) gives the nodes of a
 * message's text; empty is what to say when there is nothing; label names
 * the list. load() starts (again, from the first page).
 */
export function messageResults({ path, signal, label, empty, text }) {
  const status = notice();
  const list = h("ol", { className: "results", "aria-label": label });
  const more = h("button", { type: "button", hidden: true }, "Show older");
  const element = h("div", { className: "results-area" }, status.element, list, more);
  let names = null;
  let next = null;

  function item(message) {
    const room = names.get(oid(message.room)) || "a room";
    const author = message.author_username || "someone";
    return h("li", { className: "result" },
      h("div", { className: "meta" },
        h("span", { className: "author" }, author), " in ",
        h("span", { className: "result-room" }, room), " ",
        timeElement(message.created)),
      h("p", { className: "text" }, text(message)),
      h("a", { href: messageHref(message), className: "result-link",
        "aria-label": `Show ${author}'s message in ${room}` }, "Show in the room"));
  }

  async function page(at) {
    more.hidden = true;
    try {
      names = names || await roomNames(signal);
      const answer = await request("GET", at, { signal });
      answer.data.forEach((message) => list.append(item(message)));
      next = answer.next;
      more.hidden = !next;
      if (!list.children.length) list.append(h("li", { className: "muted" }, empty));
    } catch (error) {
      if (error.name !== "AbortError") status.error(errorText(error));
    }
  }

  more.addEventListener("click", async () => {
    const count = list.children.length;
    await page(next);
    // Keyboard users go on from the first new result.
    list.children[count]?.querySelector("a")?.focus();
  }, { signal });

  return {
    element,
    load() {
      list.replaceChildren();
      status.clear();
      return page(path);
    },
  };
}
