// Live updates of one room: one waiting `after` + `wait` request at a time
// brings new messages; edits and deletions by others are caught up with the
// latest page when a wait ends empty or the tab comes back into view. This is
// the only module that knows how updates travel: the room view sees only the
// callbacks, so another transport can replace the loop behind the same ones.

import { api, errorText, oid } from "./api.js";

const PAGE = 50;
const WAIT_SECONDS = 25;
const RETRY_MS = 2000;

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

/**
 * liveFollower({roomId, signal, known, onNew, onChanged, onDeleted, onError,
 * onOk}) -> {start(newest, lastSeq), stop()}.
 *
 * - start(newest, lastSeq): follow from the newest message already shown, or
 *   from the room's last seq when it opened empty (newest null). Once only.
 * - stop(), or aborting signal: end the request in flight and every listener.
 * - known() -> [{id, seq}] of the messages shown, to tell deletions.
 * - onNew(messages): messages posted since, oldest first, each once.
 * - onChanged(message): a message as it now is (edited, or caught up with and
 *   possibly not shown yet); not news to announce.
 * - onDeleted(id): a shown message that no longer exists.
 * - onError(text): a request failed (the loop retries unless the room is gone);
 *   onOk(): a wait ended normally again.
 */
export function liveFollower({ roomId, signal: outer, known, onNew, onChanged, onDeleted,
  onError, onOk }) {
  const controller = new AbortController();
  const { signal } = controller;
  let followed = null;   // the newest message this follower has seen
  let startSeq = 0;
  let reconciling = false;

  function stop() {
    controller.abort();
  }
  if (outer) outer.addEventListener("abort", stop, { once: true });

  async function follow() {
    while (!signal.aborted) {
      try {
        // The cursor moves only with what this loop and the first page saw: a
        // message posted here may commit before an earlier one from someone else.
        const cursor = followed ? oid(followed._id) : String(startSeq);
        const asked = Date.now();
        const batch = await api("GET",
          `/api/messages?room=${roomId}&after=${cursor}&wait=${WAIT_SECONDS}&limit=${PAGE}`,
          { signal });
        if (batch.length) followed = batch[batch.length - 1];
        onNew(batch);
        onOk();
        // A server that answers "nothing new" at once (shutting down, or a proxy
        // cutting the wait short) must not be asked again in a tight loop.
        if (!batch.length && Date.now() - asked < 1000) await sleep(RETRY_MS, signal);
        else if (!batch.length) reconcile();
      } catch (error) {
        if (signal.aborted || error.name === "AbortError") return;
        if (error.status === 403 || error.status === 404) {
          onError(errorText(error));
          return;
        }
        onError(`${errorText(error)} Retrying…`);
        await sleep(RETRY_MS, signal);
      }
    }
  }

  async function reconcile() {
    if (reconciling || signal.aborted || !followed) return;
    reconciling = true;
    try {
      const page = await api("GET", `/api/messages?room=${roomId}&limit=${PAGE}`, { signal });
      const current = new Set(page.map((message) => oid(message._id)));
      const lowest = page.length === PAGE ? page[0].seq : -Infinity;
      // Everything up to what the live loop has seen is final; a message in
      // that range missing from the latest page was deleted.
      const highest = Math.max(followed.seq, page.length ? page[page.length - 1].seq : 0);
      for (const { id, seq } of known()) {
        if (seq >= lowest && seq <= highest && !current.has(id)) onDeleted(id);
      }
      page.forEach((message) => onChanged(message));
    } catch (error) {
      if (error.name !== "AbortError") onError(errorText(error));
    } finally {
      reconciling = false;
    }
  }

  function start(newest, lastSeq) {
    followed = newest;
    startSeq = lastSeq;
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") reconcile();
    }, { signal });
    follow();
  }

  return { start, stop };
}
