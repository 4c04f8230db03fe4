// Live updates of one room, from the page's one event stream (events.js):
// new messages, edits and deletions, reactions, members coming and going, the room's
// name and topic, the person's read marker. Events that arrive while the
// room's history is still loading wait, and are applied once it is shown
// (applying one twice changes nothing). This is the only module of the room
// that knows how updates travel: the room view sees only the callbacks.

import { api, errorText, oid } from "./api.js";
import { events } from "./events.js";

const PAGE = 50;

/**
 * liveFollower({roomId, signal, known, onNew, onChanged, onEdited, onDeleted,
 * onMembers, onRoom, onRead, onRemoved, onSeq, onError}) -> {start()}.
 *
 * - Follows from the moment it is made; start(), once the history is shown,
 *   applies what came meanwhile and everything after. Aborting signal ends it.
 * - known() -> [{id, seq}] of the messages shown, to tell deletions when the
 *   room must be caught up with (see reconcile).
 * - onNew(messages): messages posted since, oldest first, each once.
 * - onChanged(message): a message as it now is (caught up with, possibly not
 *   shown yet); not news to announce.
 * - onEdited(id, text, edited): a message's new text.
 * - onDeleted(id): a message that no longer exists.
 * - onReaction(id): someone reacted to a message, or took a reaction back.
 * - onMembers(event): someone joined, left or changed role (the event).
 * - onRoom(changes): the room's name, topic, is_open or is_visible changed.
 * - onRead(seq): the person's read marker moved (here or in another tab).
 * - onRemoved(): the room left the stream (left, removed, or deleted).
 * - onSeq(seq): the seq of an event just applied (how far the view has got).
 * - onError(text): catching up failed.
 */
export function liveFollower({ roomId, signal, known, onNew, onChanged, onEdited, onDeleted,
  onReaction, onMembers, onRoom, onRead, onRemoved, onSeq, onError }) {
  let started = false;
  let waiting = [];             // events that came before start()
  let catchUp = null;           // null, "fresh" or "reset": what start() must do first
  let reconciling = false;

  function apply(event) {
    const { data = {} } = event;
    switch (event.type) {
      case "message":
        if (data.deleted) onDeleted(oid(data._id));   // a tombstone: replayed after its deletion
        else onNew([data]);
        break;
      case "message.edited":
        onEdited(oid(data.message), data.text, data.edited);
        break;
      case "message.deleted":
        onDeleted(oid(data.message));
        break;
      case "reaction.added":
      case "reaction.removed":
        onReaction(oid(data.message));
        break;
      case "member.joined":
      case "member.left":
      case "member.role":
        onMembers(event);
        break;
      case "room.updated":
        onRoom(data);
        break;
      case "read":
        onRead(data.seq);
        break;
      case "stream.removed":
        onRemoved();
        return;
      case "stream.reset":
        reconcile(true);
        return;
      default:
        return;
    }
    if (typeof event.seq === "number") onSeq(event.seq);
  }

  function receive(event) {
    if (event.type === "stream.ready") {
      // The stream started afresh: what happened between the history's page
      // and this start reached nobody.
      if (!event.fresh) return;
      if (started) reconcile(false);
      else catchUp = catchUp || "fresh";
      return;
    }
    if (!started) {
      if (event.type === "stream.reset") catchUp = "reset";
      else waiting.push(event);
      return;
    }
    apply(event);
  }

  /**
   * Catch up with the latest page: a message in its range that is shown but
   * not on it was deleted. After a reset (the server's log was restored from
   * an older backup) a message shown beyond the page no longer exists either.
   */
  async function reconcile(reset) {
    if (reconciling || signal.aborted) return;
    reconciling = true;
    try {
      const page = await api("GET", `/api/messages?room=${roomId}&limit=${PAGE}`, { signal });
      const current = new Set(page.map((message) => oid(message._id)));
      const lowest = page.length === PAGE ? page[0].seq : -Infinity;
      const highest = reset ? Infinity : page.length ? page[page.length - 1].seq : 0;
      for (const { id, seq } of known()) {
        if (seq >= lowest && seq <= highest && !current.has(id)) onDeleted(id);
      }
      page.forEach((message) => onChanged(message));
      if (page.length) onSeq(page[page.length - 1].seq);
    } catch (error) {
      if (error.name !== "AbortError") onError(errorText(error));
    } finally {
      reconciling = false;
    }
  }

  events.subscribe({ room: roomId, signal }, receive);

  function start() {
    if (started || signal.aborted) return;
    started = true;
    const queued = waiting;
    waiting = [];
    queued.forEach(apply);
    if (catchUp) reconcile(catchUp === "reset");
    catchUp = null;
  }

  return { start };
}
