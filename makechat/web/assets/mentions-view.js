// The messages that mention the person, across their rooms (GET
// /api/mentions), newest first, each linking to where it is in its room.

import { session } from "./api.js";
import { h } from "./dom.js";
import { mentionText } from "./message-parts.js";
import { messageResults } from "./message-results.js";

/** mentionsView() -> {element, leave}. */
export function mentionsView() {
  const controller = new AbortController();
  const results = messageResults({ path: "/api/mentions?limit=50", signal: controller.signal,
    label: "Messages that mention you", empty: "Nobody has mentioned you yet.",
    text: (message) => mentionText(message, session.user) });
  const element = h("section", { className: "mentions-view" },
    h("a", { href: "#/rooms", className: "back" }, "← All rooms"),
    h("h1", { id: "mentions-heading" }, "Mentions"), results.element);
  results.load();
  return { element, leave: () => controller.abort() };
}
