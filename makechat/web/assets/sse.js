// Server-Sent Events, parsed by hand: the page reads /api/events with fetch()
// (EventSource cannot send the X-Auth-Token header, and the token must not
// go in the URL, where it would land in access logs). This module only turns
// text into events, as the HTML standard's "event stream interpretation"
// says; it knows nothing of connections or of makechat.

/**
 * sseParser({onEvent, onRetry}) -> {push(text), end()}.
 *
 * - push(text): the next decoded piece of the stream, cut anywhere (even
 *   between a CR and its LF).
 * - onEvent({id, type, data}): one event; id is the last id seen so far on
 *   this stream (events without an id: line keep the previous one).
 * - onRetry(ms): the stream asked for another reconnection delay.
 * - end(): the stream ended; an event not yet ended by a blank line is
 *   dropped, as the standard says.
 */
export function sseParser({ onEvent, onRetry = () => {} }) {
  let buffer = "";
  let pendingCR = false;   // the last piece ended with CR: a following LF belongs to it
  let lastId = "";
  let type = "";
  let data = [];

  function dispatch() {
    if (data.length) onEvent({ id: lastId, type: type || "message", data: data.join("\n") });
    type = "";
    data = [];
  }

  function line(text) {
    if (text === "") {
      dispatch();
      return;
    }
    if (text.startsWith(":")) return;   // a comment: the keepalive
    const colon = text.indexOf(":");
    const name = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "data") data.push(value);
    else if (name === "event") type = value;
    else if (name === "id" && !value.includes("\0")) lastId = value;
    else if (name === "retry" && /^\d+$/.test(value)) onRetry(Number(value));
  }

  return {
    push(text) {
      if (!text) return;
      if (pendingCR && text.startsWith("\n")) text = text.slice(1);
      pendingCR = false;
      buffer += text;
      // Lines end with CRLF, LF or CR.
      const pattern = /\r\n|\n|\r/g;
      let start = 0;
      let match;
      while ((match = pattern.exec(buffer)) !== null) {
        if (match[0] === "\r" && match.index === buffer.length - 1) {
          pendingCR = true;   // maybe the first half of a CRLF cut in two
        }
        line(buffer.slice(start, match.index));
        start = pattern.lastIndex;
      }
      buffer = buffer.slice(start);
    },
    end() {
      buffer = "";
      type = "";
      data = [];
    },
  };
}
