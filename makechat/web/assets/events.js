// The page's one event stream: GET /api/events as Server-Sent Events, for
// every room of the person at once, opened after log-in and kept for the
// whole page. Parts of the page subscribe (to one room, or to all) and get
// each event once, in each room's order. The stream resumes where it left
// off: after a dropped network, a server restart or a laptop's sleep it
// reconnects with the last event's id as Last-Event-ID, and the server sends
// exactly what was missed. Its state shows, unobtrusively, in #connection.

import { openStream, session, signedOut, oid } from "./api.js";
import { sseParser } from "./sse.js";

// The server sends a keepalive comment every 15 seconds (stream_heartbeat)
// on an idle stream: this long without a byte means the connection is dead
// without knowing it (a laptop that slept, a network that went away under
// it). A server with a longer heartbeat sets data-stall-after (seconds) on
// #connection in index.html.
const STALL_MS = 35000;
const STALL_CHECK_MS = 1000;
const MAX_DELAY_MS = 30000;
// A short drop (a server restart) need not alarm anyone: say so only if it lasts.
const SAY_DOWN_AFTER_MS = 1500;
const SAY_BACK_FOR_MS = 4000;

const subscribers = new Set();
const openWaiters = new Set();
let generation = 0;        // one per connect(); an old loop sees it changed and ends
let attempt = null;        // the AbortController of the connection in use
let cursor = null;         // the id of the last event applied: where to resume
let retryMs = 2000;        // the stream's own `retry:`
let failures = 0;          // failed attempts in a row
let lastByte = 0;          // Date.now() of the last byte received
let state = "closed";      // "connecting" | "open" | "down" | "closed"
let wakeUp = null;         // ends the pause before the next attempt early
let stallTimer = null;
let sayTimer = null;
let saidDown = false;

function statusElement() {
  return document.getElementById("connection");
}

function say(text, kind) {
  const element = statusElement();
  if (!element) return;
  element.textContent = text;
  element.className = kind ? `connection ${kind}` : "connection";
}

function setState(next) {
  state = next;
  const element = statusElement();
  if (element) element.dataset.state = next;
  clearTimeout(sayTimer);
  if (next === "open") {
    if (saidDown) {
      say("Connected again.", "up");
      sayTimer = setTimeout(() => say(""), SAY_BACK_FOR_MS);
    } else {
      say("");
    }
    saidDown = false;
    for (const resolve of openWaiters) resolve();
    openWaiters.clear();
  } else if (next === "down") {
    const show = () => {
      saidDown = true;
      say("Connection lost. Reconnecting…", "down");
    };
    if (saidDown) show();
    else sayTimer = setTimeout(show, SAY_DOWN_AFTER_MS);
  } else if (next === "closed") {
    saidDown = false;
    say("");
  }
}

function dispatch(event) {
  const room = event.room ? oid(event.room) : null;
  for (const subscriber of Array.from(subscribers)) {
    if (room && subscriber.room && subscriber.room !== room) continue;
    try {
      subscriber.handler(event);
    } catch (error) {
      // One part's mistake must not stop the others' updates.
      console.error(error);
    }
  }
}

/** Wait before the next attempt. */
function pause(ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      wakeUp = null;
      resolve();
    }
    wakeUp = done;
  });
}

// The stream's retry twice (a restart takes a moment), then doubling, with
// jitter so that a restarted server is not met by every page at once.
function nextDelay() {
  const base = Math.min(MAX_DELAY_MS, retryMs * 2 ** Math.max(0, failures - 2));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

async function read(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const parser = sseParser({
    onEvent,
    onRetry(ms) {
      retryMs = Math.max(500, ms);
    },
  });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      lastByte = Date.now();
      parser.push(decoder.decode(value, { stream: true }));
    }
  } finally {
    parser.end();
    reader.releaseLock();
  }
}

async function run(mine) {
  let quick = false;   // reconnect at once: the connection died, the server may be fine
  while (mine === generation) {
    const controller = new AbortController();
    attempt = controller;
    if (state !== "down") setState("connecting");
    const resumed = Boolean(cursor);
    const token = session.token;
    quick = false;
    lastByte = Date.now();   // the answer, too, must come within the stall time
    try {
      const response = await openStream("/api/events", {
        headers: cursor ? { "Last-Event-ID": cursor } : {}, signal: controller.signal });
      lastByte = Date.now();
      await read(response, ({ id, type, data }) => {
        if (mine !== generation) return;
        let event;
        try {
          event = JSON.parse(data);
        } catch {
          return;
        }
        if (type === "stream.ready") {
          failures = 0;
          setState("open");
          // Without a cursor (or with one the server refused) the stream
          // starts now: whatever a part loaded earlier may have missed a step.
          dispatch({ ...event, type, fresh: !resumed });
        } else if (type === "stream.end") {
          stop();
          // Only the session this stream ran on: a log-out here revokes it too.
          if (session.token === token) signedOut("This token is no longer valid.");
          return;
        } else {
          dispatch(event);
        }
        // Applied, so now it is where to resume from.
        if (id) cursor = id;
      });
      quick = controller.stalled || false;
    } catch (error) {
      if (mine !== generation) return;
      quick = controller.stalled || false;
      if (error.status === 401) {
        stop();   // api.js has signed the tab out
        return;
      }
      if (error.status === 400 && cursor) {
        cursor = null;   // a cursor this server does not know (a restore): start afresh
        quick = true;
      }
    }
    if (mine !== generation) return;
    setState("down");
    if (quick) continue;
    failures += 1;
    await pause(nextDelay());
  }
}

function stallMs() {
  const seconds = Number(statusElement()?.dataset.stallAfter);
  return seconds > 0 ? seconds * 1000 : STALL_MS;
}

/**
 * Give up on a connection that has gone silent: open, or still waiting for
 * its answer (a connection reused after a sleep may be as dead).
 */
function checkStall() {
  const inUse = attempt && !attempt.signal.aborted && !wakeUp;   // not pausing between attempts
  if (inUse && Date.now() - lastByte > stallMs()) {
    attempt.stalled = true;
    attempt.abort();
  }
}

/** Something says the network may be back: retry now rather than after the pause. */
function wake() {
  if (state === "closed") return;
  if (wakeUp) wakeUp();
  else checkStall();
}

function stop() {
  generation += 1;
  if (attempt) attempt.abort();
  attempt = null;
  if (wakeUp) wakeUp();
  clearInterval(stallTimer);
  stallTimer = null;
  setState("closed");
}

let suspended = false;    // closed by pagehide, to reopen on pageshow

window.addEventListener("online", wake);
// A page left for another may be kept (the back/forward cache) with its
// connections: close the stream, or each page left behind holds one of the
// browser's few connections to the server until none are left for requests.
window.addEventListener("pagehide", () => {
  if (state === "closed") return;
  stop();
  suspended = true;
});
window.addEventListener("pageshow", () => {
  if (!suspended) return;
  suspended = false;
  if (session.token) events.connect();   // resumes from the cursor kept
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") wake();
});

export const events = {
  /** Open the stream (after log-in); a second call changes nothing. */
  connect() {
    if (state !== "closed") return;
    generation += 1;
    failures = 0;
    stallTimer = setInterval(checkStall, STALL_CHECK_MS);
    run(generation);
  },

  /** Close it and forget where it was (log-out: the next person starts afresh). */
  disconnect() {
    stop();
    suspended = false;
    cursor = null;
  },

  /**
   * subscribe({room, signal}, handler): handler(event) for each event of the
   * room (every room without one), and for the stream's own stream.ready
   * ({fresh: true} when it started afresh rather than resumed). Aborting
   * signal ends the subscription.
   */
  subscribe({ room = null, signal } = {}, handler) {
    const subscriber = { room, handler };
    subscribers.add(subscriber);
    if (signal) signal.addEventListener("abort", () => subscribers.delete(subscriber), { once: true });
  },

  /** Resolve once the stream is open, or after timeoutMs, or on abort. */
  whenOpen(signal, timeoutMs = 3000) {
    if (state === "open" || state === "closed") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        openWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      openWaiters.add(done);
      if (signal) signal.addEventListener("abort", done, { once: true });
    });
  },

  get state() {
    return state;
  },
};
