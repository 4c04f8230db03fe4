// Search (GET /api/search): a form, and the messages holding every word,
// newest first, the matched words in <mark> (built from the API's `marked`
// pieces as text nodes), each linking to where it is in its room.

import { h, field } from "./dom.js";
import { messageResults } from "./message-results.js";

/** The search address for words (in one room): #/search?q=...[&room=R] */
export function searchHref(words, room = null) {
  return `#/search?${new URLSearchParams(room ? { q: words, room } : { q: words })}`;
}

/** A message's text with the matches marked. */
function markedText(result) {
  if (!Array.isArray(result.marked)) return [result.text];
  return result.marked.map((piece) => (piece.match ? h("mark", {}, piece.text) : piece.text));
}

/**
 * The search form: submitting goes to the search view (go(hash)); with
 * room, it searches that room only.
 */
export function searchForm({ go, words = "", room = null, id = "search-box" }) {
  const input = field(room ? "Search this room" : "Search messages", { type: "search",
    name: "q", maxlength: 200, value: words, required: true, autocomplete: "off" });
  input.input.id = id;
  input.field.querySelector("label").setAttribute("for", input.input.id);
  const form = h("form", { className: "search-form", role: "search" },
    input.field, h("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.input.value.trim();
    if (value) go(searchHref(value, room));
  });
  return form;
}

/** searchView({go, words, room}) -> {element, leave}; room: one room's id only. */
export function searchView({ go, words, room = null }) {
  const controller = new AbortController();
  const heading = h("h1", { id: "search-heading" },
    room ? `Search in one room: ${words}` : `Search: ${words}`);
  const query = { q: words, limit: 25 };
  if (room) query.room = room;
  const results = messageResults({
    path: `/api/search?${new URLSearchParams(query)}`,
    signal: controller.signal, label: "Search results",
    empty: "No message holds every one of these words.", text: markedText });
  const element = h("section", { className: "search-view" },
    h("a", { href: "#/rooms", className: "back" }, "← All rooms"),
    heading, searchForm({ go, words, room, id: "search-again" }),
    room && h("a", { href: `#/rooms/${room}` }, "Back to the room"), results.element);
  results.load();
  return { element, focusTarget: heading, leave: () => controller.abort() };
}
