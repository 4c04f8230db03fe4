"""Helpers for tests that run makechat as a real process over real HTTP."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from devdb.database import free_port

BIN = Path(sys.executable).parent


def http(method, url, body=None, token=None, timeout=40, headers=None):
    """Make one request; return (status, headers, parsed JSON or None)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("X-Auth-Token", token)
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, response.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, error.headers, json.loads(raw) if raw else None


class LiveServer:
    """`makechat serve` in a subprocess on a free port."""

    def __init__(self, environ, *args, new_session=False):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.environ = dict(os.environ, **environ)
        self.args = args
        self.process = None
        # In a session of its own, the server and its workers are one process
        # group, which stop(group=True) signals as a terminal's Ctrl-C does.
        self.new_session = new_session

    def start(self, timeout=30):
        # NOTE: output goes to a file, not a pipe: a pipe nobody reads fills
        # up and then blocks the server's logging, and with it the server.
        self.log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.process = subprocess.Popen(
            [str(BIN / "makechat"), "serve", "--host", "127.0.0.1", "--port", str(self.port),
             *self.args], env=self.environ, stdout=self.log, stderr=subprocess.STDOUT,
            text=True, start_new_session=self.new_session)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("makechat serve exited:\n" + self.output())
            try:
                urllib.request.urlopen(self.url + "/api/nothing", timeout=1)
            except urllib.error.HTTPError:
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("makechat serve did not start")

    def stop(self, sig=signal.SIGTERM, timeout=30, group=False):
        """Stop with a signal (to the whole process group if group); return
        (exit status, output)."""
        if self.process is None:
            return None, ""
        if group:
            os.killpg(self.process.pid, sig)
        else:
            self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        status = self.process.returncode
        self.process = None
        return status, self.output()

    def restart(self, sig=signal.SIGTERM, timeout=30):
        """Stop, then start a new `makechat serve` on the same port (as a
        deployment's restart does); return how the old one exited and what
        it printed."""
        stopped = self.stop(sig, timeout)
        self.start(timeout)
        return stopped

    def output(self):
        """Everything the server printed so far."""
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


class FreezingProxy:
    """A TCP relay in front of a server, on a port of its own. freeze() makes
    the connections open now go silent without closing them, as a laptop's
    sleep leaves a browser's: nothing arrives on them any more, and a request
    sent on one after all is refused (the server forgot it long ago) rather
    than silently lost. New connections pass as before."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.links = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                return
            link = {"sockets": (client, upstream), "frozen": threading.Event()}
            with self.lock:
                self.links.append(link)
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._relay, args=(source, target, link),
                                 daemon=True).start()

    @staticmethod
    def _relay(source, target, link):
        from_client = source is link["sockets"][0]
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if not link["frozen"].is_set():
                    target.sendall(data)
                elif from_client:
                    break   # a new request on a dead connection: refused
                # else: what the server sends is lost on the way
        except OSError:
            pass
        if from_client or not link["frozen"].is_set():
            for sock in link["sockets"]:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def freeze(self):
        with self.lock:
            for link in self.links:
                link["frozen"].set()

    def close(self):
        self.listener.close()
        with self.lock:
            for link in self.links:
                for sock in link["sockets"]:
                    sock.close()
