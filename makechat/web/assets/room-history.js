// A room's history: the scrolling pane around the message list, the latest
// page when the room opens, and the page before the oldest message shown
// (`before`) when the person scrolls to the top or asks for it, keeping the
// message they were reading where it was; and a jump to one message (a
// search result, a mention), loading the pages back to it.

import { api, errorText, oid } from "./api.js";
import { h } from "./dom.js";

const PAGE = 50;
// A jump loads at most this many pages back (of MAX_LIMIT): 2,000 messages.
const JUMP_PAGES = 10;
const JUMP_PAGE = 200;

/**
 * historyPane({roomId, list, signal, onError}) -> {element, loadLatest,
 * nearBottom, scrollToBottom, reveal, jumpTo}. list is the messageList the pane scrolls;
 * signal ends its requests and listeners; onError(text) reports a failed page.
 */
export function historyPane({ roomId, list, signal, onError }) {
  let hasOlder = false;
  let loadingOlder = null;   // the page being loaded (a promise)

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

  /**
   * Load the page before the oldest message shown; false if that failed. A
   * call while one runs waits for that one.
   */
  function loadOlder(size = PAGE) {
    const oldest = list.oldest();
    if (loadingOlder) return loadingOlder;
    if (!hasOlder || !oldest) return Promise.resolve(true);
    loadingOlder = fetchOlder(oldest, size).finally(() => {
      loadingOlder = null;
      olderButton.disabled = false;
    });
    return loadingOlder;
  }

  async function fetchOlder(oldest, size) {
    olderButton.disabled = true;
    try {
      const page = await api("GET",
        `/api/messages?room=${roomId}&before=${oid(oldest._id)}&limit=${size}`, { signal });
      const heightBefore = element.scrollHeight;
      const topBefore = element.scrollTop;
      page.forEach(list.place);
      // Keep the message the person was looking at where it was.
      element.scrollTop = topBefore + (element.scrollHeight - heightBefore);
      setHasOlder(page.length === size);
      return true;
    } catch (error) {
      if (error.name !== "AbortError") onError(errorText(error));
      return false;
    }
  }

  // When the history does not fill the screen there is nothing to scroll: load more.
  async function fillScroller() {
    while (hasOlder && !signal.aborted && element.scrollHeight <= element.clientHeight) {
      if (!await loadOlder()) return;
    }
  }

  /**
   * Show one message (its id) highlighted in the middle of the view, and
   * focus it: loading the history back to it (and a page before it) if it is
   * older than what is shown. Return false if it is not in the room's history.
   */
  async function jumpTo(id) {
    if (!list.get(id)) {
      const target = await api("GET", `/api/messages/${id}`, { signal });
      for (let pages = 0; pages < JUMP_PAGES && hasOlder && !list.get(id); pages += 1) {
        if (list.oldest() && list.oldest().seq < target.seq) break;
        if (!await loadOlder(JUMP_PAGE)) return false;
      }
      if (hasOlder && list.get(id)) await loadOlder();   // some context before it
    }
    const item = list.highlight(id);
    if (!item) return false;
    item.setAttribute("tabindex", "-1");
    item.scrollIntoView({ block: "center" });
    item.focus({ preventScroll: true });
    return true;
  }

  element.addEventListener("scroll", () => {
    if (element.scrollTop < 40) loadOlder();
  }, { signal });
  olderButton.addEventListener("click", () => loadOlder(), { signal });

  return { element, loadLatest, nearBottom, scrollToBottom, reveal, jumpTo };
}
