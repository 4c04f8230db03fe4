"""A real HTTP receiver on loopback for outgoing webhooks' tests: it
records every request and answers as told (a status, a delay, a body)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """``answers``: what to answer next, a list of (status, delay seconds,
    JSON body or None), used in order; then ``default``. ``requests``: one
    dict per request received (headers, body bytes, parsed JSON), including
    those that timed out on the sender's side; ``acknowledged``: the
    webhook-ids answered 2xx, in order."""

    def __init__(self, default=(200, 0, None)):
        self.answers = []
        self.default = default
        self.requests = []
        self.acknowledged = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    status, delay, reply = receiver.answers.pop(0) if receiver.answers \
                        else receiver.default
                    receiver.requests.append({"headers": dict(self.headers), "body": body,
                                              "json": json.loads(body), "path": self.path})
                if delay:
                    time.sleep(delay)
                data = json.dumps(reply).encode() if reply is not None else b""
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    self.wfile.flush()
                except OSError:
                    return  # the sender gave up (timed out) or went away
                if 200 <= status < 300:
                    with receiver.lock:
                        receiver.acknowledged.append(self.headers.get("webhook-id"))

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()

    def ids(self):
        with self.lock:
            return [request["headers"].get("webhook-id") for request in self.requests]

    def wait_for(self, count, timeout=30.0):
        """Wait until ``count`` requests came; return them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.02)
        raise AssertionError(f"{len(self.requests)} requests came, not {count}")
