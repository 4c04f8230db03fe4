#!/usr/bin/env python3
"""A makechat bot that answers when it is mentioned.

makechat delivers each message that mentions the bot to this server (an
outgoing webhook), signed the Standard Webhooks way; the bot checks the
signature and the time, drops repeats by their webhook-id, and answers
with {"text": ...}, which makechat posts in the room as the bot.

Only the standard library. Run it with the webhook's secret:

    MAKECHAT_WEBHOOK_SECRET=whsec_... PORT=8000 python3 helper_bot.py
"""

import base64
import hashlib
import hmac
import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ["MAKECHAT_WEBHOOK_SECRET"]  # shown once, when the webhook was made
PORT = int(os.environ.get("PORT", "8000"))
TOLERANCE = 5 * 60  # seconds: older (or future) deliveries are refused
KEY = base64.b64decode(SECRET.removeprefix("whsec_"))
seen = {}  # webhook-id -> when: a retry of a delivery already handled is dropped


def verify(headers, body):
    """True if makechat signed this body, and not long ago."""
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    if not msg_id or not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE:
        return False
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, given)
               for given in headers.get("webhook-signature", "").split())


def answer(event):
    """What the bot says to a message that mentions it."""
    who, text = event["actor"]["username"], event["data"]["text"]
    if "ping" in text.lower():
        return f"pong, @{who}"
    return f"Hello @{who}! Say ping and I say pong."


class Bot(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the standard library's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not verify(self.headers, body):
            return self.reply(401, {"error": "bad signature"})
        msg_id = self.headers["webhook-id"]
        if msg_id in seen:
            return self.reply(200, {})  # a repeat: already answered
        seen[msg_id] = time.time()
        event = json.loads(body)
        if event["type"] != "message":
            return self.reply(200, {})
        return self.reply(200, {"text": answer(event)})

    def reply(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Bot)
    print(f"helper bot listening on port {PORT}", flush=True)
    server.serve_forever()
