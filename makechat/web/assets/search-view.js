// Search (GET /api/search): a form, and the messages holding every word,
// newest first, the matched words in <mark> (built from the API's `marked`
// pieces as text nodes), each linking to where it is in its room.

import { h, field } from "./dom.js";
import { messageResults } from "./message-results.js";

/** The search address for words: #/search?q=... */
export function searchHref(words) {
  return `#/search?${new URLSearchParams({ q: words })}`;
}

/** A message's text with the matches marked. */
function markedText(result) {
  if (!Array.isArray(result.marked)) return [result.text];
  return result.marked.map((piece) => (piece.match ? h("mark", {}, piece.text) : piece.text));
}

/** The search form: submitting goes to the search view (go(hash)). */
export function searchForm({ go, words = "" }) {
  const input = field("Search messages", { type: "search", name: "q", maxlength: 200,
    value: words, required: true, autocomplete: "off" });
  input.input.id = words ? "search-again" : "search-box";
  input.field.querySelector("label").setAttribute("for", input.input.id);
  const form = h("form", { className: "search-form", role: "search" },
    input.field, h("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.input.value.trim();
    if (value) go(searchHref(value));
  });
  return form;
}

/** searchView({go, words}) -> {element, leave}. */
export function searchView({ go, words }) {
  const controller = new AbortController();
  const heading = h("h1", { id: "search-heading" }, `Search: ${words}`);
  const results = messageResults({
    path: `/api/search?${new URLSearchParams({ q: words, limit: 25 })}`,
    signal: controller.signal, label: "Search results",
    empty: "No message holds every one of these words.", text: markedText });
  const element = h("section", { className: "search-view" },
    h("a", { href: "#/rooms", className: "back" }, "← All rooms"),
    heading, searchForm({ go, words }), results.element);
  results.load();
  return { element, focusTarget: heading, leave: () => controller.abort() };
}
