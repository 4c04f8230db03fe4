// A room's history: the scrolling pane around the message list, the latest
// page when the room opens, and the page before the oldest message shown
// (`before`) when the person scrolls to the top or asks for it, keeping the
// message they were reading where it was.

import { api, errorText, oid } from "./api.js";
import { h } from "./dom.js";

const PAGE = 50;

/**
 * historyPane({roomId, list, signal, onError}) -> {element, loadLatest,
 * nearBottom, scrollToBottom, reveal}. list is the messageList the pane scrolls;
 * signal ends its requests and listeners; onError(text) reports a failed page.
 */
export function historyPane({ roomId, list, signal, onError }) {
  let hasOlder = false;
  let loadingOlder = false;

  const olderButton = h("button", { type: "button", className: "older", hidden: true },
    "Load older messages");
  const historyStart = h("p", { className: "muted history-start", hidden: true },
    "This is the start of the room's history.");
  const element = h("div", { className: "scroller", id: "message-scroller", tabindex: "0",
    "aria-label": "Message history" }, historyStart, olderButton, list.element);

  function nearBottom() {
    return element.scrollHeight - element.scrollTop - element.clientHeight < 80;
  }

  function scrollToBottom() {
    element.scrollTop = element.scrollHeight;
  }

  /** Bring node (in the list) into view near the top, if it is above the view. */
  function reveal(node) {
    const above = node.getBoundingClientRect().top - element.getBoundingClientRect().top;
    if (above < 0) element.scrollTop += above - 8;
  }

  function setHasOlder(value) {
    hasOlder = value;
    olderButton.hidden = !value;
    historyStart.hidden = value;
  }

  /** Show the latest page, scrolled to its end, and return it. */
  async function loadLatest() {
    const page = await api("GET", `/api/messages?room=${roomId}&limit=${PAGE}`, { signal });
    setHasOlder(page.length === PAGE);
    page.forEach(list.place);
    scrollToBottom();
    await fillScroller();
    return page;
  }

  /** Load the page before the oldest message shown; false if that failed. */
  async function loadOlder() {
    const oldest = list.oldest();
    if (!hasOlder || loadingOlder || !oldest) return true;
    loadingOlder = true;
    olderButton.disabled = true;
    try {
      const page = await api("GET",
        `/api/messages?room=${roomId}&before=${oid(oldest._id)}&limit=${PAGE}`, { signal });
      const heightBefore = element.scrollHeight;
      const topBefore = element.scrollTop;
      page.forEach(list.place);
      // Keep the message the person was looking at where it was.
      element.scrollTop = topBefore + (element.scrollHeight - heightBefore);
      setHasOlder(page.length === PAGE);
      return true;
    } catch (error) {
      if (error.name !== "AbortError") onError(errorText(error));
      return false;
    } finally {
      loadingOlder = false;
      olderButton.disabled = false;
    }
  }

  // When the history does not fill the screen there is nothing to scroll: load more.
  async function fillScroller() {
    while (hasOlder && !signal.aborted && element.scrollHeight <= element.clientHeight) {
      if (!await loadOlder()) return;
    }
  }

  element.addEventListener("scroll", () => {
    if (element.scrollTop < 40) loadOlder();
  }, { signal });
  olderButton.addEventListener("click", loadOlder, { signal });

  return { element, loadLatest, nearBottom, scrollToBottom, reveal };
}
