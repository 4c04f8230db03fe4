// The person's read marker in one room: while the room is open and the tab
// visible, it moves (PUT /api/rooms/{id}/read) to the newest event shown,
// once things settle rather than once per message. The server only ever
// moves a marker forward and tells the person's other tabs (a `read` event),
// which clears their badges.

import { api } from "./api.js";

const SETTLE_MS = 400;

/**
 * readMarker({roomId, signal}) -> {open(readSeq, newestSeq), saw(seq), moved(seq)}.
 *
 * - open(readSeq, newestSeq): the room is shown, read up to readSeq, its
 *   newest event at newestSeq. Nothing is marked before.
 * - saw(seq): an event up to seq is now shown.
 * - moved(seq): the marker is at seq now (a `read` event: this tab or another).
 * - Aborting signal (leaving the room) sends a mark still waiting, then stops.
 */
export function readMarker({ roomId, signal }) {
  let opened = false;
  let readSeq = 0;
  let newest = 0;
  let failedSeq = null;   // a mark the server refused: not asked again for the same seq
  let timer = null;
  let sending = false;

  const visible = () => document.visibilityState === "visible";

  function schedule() {
    if (!opened || signal.aborted || timer || newest <= readSeq || newest === failedSeq
        || !visible()) return;
    timer = setTimeout(send, SETTLE_MS);
  }

  async function send() {
    timer = null;
    if (sending) return;   // the one in flight reschedules when it ends
    const seq = newest;
    sending = true;
    try {
      const result = await api("PUT", `/api/rooms/${roomId}/read`, { body: { seq } });
      readSeq = Math.max(readSeq, result.read_seq);
    } catch {
      // Not worth a notice: the next event shown tries again.
      failedSeq = seq;
    } finally {
      sending = false;
      schedule();
    }
  }

  document.addEventListener("visibilitychange", () => {
    if (visible()) {
      schedule();
    } else {
      clearTimeout(timer);   // hidden before it settled: not seen
      timer = null;
    }
  }, { signal });

  signal.addEventListener("abort", () => {
    // Leaving right after the messages came in: they were seen all the same.
    if (timer) {
      clearTimeout(timer);
      timer = null;
      if (visible()) send();
    }
  }, { once: true });

  return {
    open(seq, newestSeq) {
      readSeq = Math.max(readSeq, seq || 0);
      newest = Math.max(newest, newestSeq || 0);
      opened = true;
      schedule();
    },
    saw(seq) {
      if (seq > newest) newest = seq;
      schedule();
    },
    moved(seq) {
      if (seq > readSeq) readSeq = seq;
    },
  };
}
