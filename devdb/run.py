"""``make run``: a local database and ``makechat serve`` on it, in the foreground.

``python -m devdb`` runs this (``make run PORT=8181`` passes ``--port``).
"""

import argparse
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from devdb.database import DatabaseServer, free_port, port_is_free


class RunLock:
    """``var/run.lock``, locked (flock) for as long as a ``make run`` on that
    folder lives: a second run finds it locked and leaves everything alone.

    The lock belongs to the open file, which the database and the server
    inherit, so it holds while any process of the run is alive, and a file
    left by a run that crashed blocks nothing. The file says which process
    and URL hold it."""

    def __init__(self, path):
        self.path = Path(path)
        self.fd = None

    def holder(self):
        """What the run holding the lock wrote ({} if unreadable), or None if
        no run holds it. Creates nothing."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            return self._holder_of(fd)
        finally:
            os.close(fd)

    def acquire(self):
        """Lock the file and return None, or return what the holder wrote."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        holder = self._holder_of(fd)
        if holder is not None:
            os.close(fd)
            return holder
        self.fd = fd
        return None

    @staticmethod
    def _holder_of(fd):
        """None after locking fd; else what the holder wrote."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return None
        except BlockingIOError:
            pass
        try:
            holder = json.loads(os.pread(fd, 4096, 0) or b"{}")
        except ValueError:
            holder = {}
        return holder if isinstance(holder, dict) else {}

    def record(self, **holder):
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, json.dumps(holder).encode() + b"\n", 0)


def port_from_environment(environ):
    """The port of MAKECHAT_PORT, else 8080; ValueError if it is not one."""
    text = environ.get("MAKECHAT_PORT", "").strip() or "8080"
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"MAKECHAT_PORT must be a port number (1-65535), not {text!r}")
    return int(text)


def suggest_port(busy, host):
    """A port near ``busy`` that is free now (8181 for 8080 when it is)."""
    for port in range(busy + 101, busy + 201):
        if port <= 65535 and port_is_free(port, host):
            return port
    return free_port()


def url_host(host):
    """The host to put in a URL a person can open."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def wait_until_listening(process, host, port):
    """Wait until something accepts on host:port; False if the process ended first."""
    address = url_host(host).strip("[]")
    while True:
        if process.poll() is not None:
            return False
        try:
            socket.create_connection((address, port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)


def banner(url, server, var):
    """What a person needs next, with commands that work from here as printed."""
    prefix = f"MAKECHAT_CONFIG={os.path.relpath(var / 'makechat.conf')}"
    makechat = os.path.relpath(Path(sys.executable).with_name("makechat"))
    return (f"\nmakechat is running at {url} ({server.kind} on 127.0.0.1:{server.port}, "
            f"data in {os.path.relpath(var / 'db')})\n"
            "Create an admin in another terminal, from this folder, with:\n\n"
            f"    {prefix} {makechat} user create "
            "-u admin -p 'choose-a-password' -e admin@example.com -admin\n\n"
            f"Every makechat command (user list, backup, ...) works on this instance "
            f"with {prefix} in front.\n"
            f"{docs_line(url)}\n"
            "Press Ctrl-C to stop.\n")


def docs_line(url):
    from makechat.resources.docs import CHECKOUT_DOCS
    if (CHECKOUT_DOCS / "index.html").is_file():
        return f"The documentation: {url}docs/"
    return ("The documentation, with the API's curl and httpie examples: make docs, then "
            f"{url}docs/")


def run_local(argv=None):
    """Start a local database and `makechat serve` on it, in the foreground."""
    parser = argparse.ArgumentParser(prog="python -m devdb",
                                     description="Run makechat locally on an embedded database.",
                                     epilog="example: python -m devdb --var var "
                                            "--port 8181   (make run PORT=8181)")
    parser.add_argument("--var", default="var",
                        help="folder for the data and config (default: var)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int,
                        help="port to serve on (default: $MAKECHAT_PORT, else 8080)")
    args = parser.parse_args(argv)
    if args.port is None:
        try:
            args.port = port_from_environment(os.environ)
        except ValueError as error:
            print(f"makechat: {error}", file=sys.stderr)
            return 1

    var = Path(args.var).resolve()
    url = f"http://{url_host(args.host)}:{args.port}/"
    lock = RunLock(var / "run.lock")

    def already_running(holder):
        where = (f"at {holder.get('url')} (pid {holder.get('pid')})" if holder.get("url")
                 else "(still starting)")
        print(f"makechat is already running on {os.path.relpath(var)} {where}; use that one, "
              "or stop it (Ctrl-C in its terminal) before starting another.", flush=True)
        return 0

    # Nothing is written before both checks pass: a run on this folder wins
    # over a busy port (it is probably the one using it).
    holder = lock.holder()
    if holder is not None:
        return already_running(holder)
    if not port_is_free(args.port, args.host):
        other = suggest_port(args.port, args.host)
        print(f"makechat: port {args.port} on {args.host} is in use by another program; "
              f"choose another, for example: make run PORT={other} (or MAKECHAT_PORT={other})",
              file=sys.stderr, flush=True)
        return 1
    var.mkdir(parents=True, exist_ok=True)
    holder = lock.acquire()
    if holder is not None:  # another run started in between
        return already_running(holder)
    lock.record(pid=os.getpid(), url=url, var=str(var))

    db_port = 27017 if port_is_free(27017) else free_port()
    server = DatabaseServer(var, port=db_port, pass_fds=(lock.fd,))
    serve = None

    def forward(signum, frame):
        if serve is not None and serve.poll() is None:
            serve.send_signal(signum)
        else:
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        print(f"Starting {server.kind} on 127.0.0.1:{db_port} (data in {var / 'db'})", flush=True)
        try:
            server.start()
        except RuntimeError as error:
            print(f"makechat: {error}", file=sys.stderr)
            return 1
        conf = var / "makechat.conf"
        conf.write_text("[makechat]\n"
                        f"mongo_uri = {server.uri()}\n"
                        f"backup_dir = {var / 'backups'}\n"
                        f"host = {args.host}\nport = {args.port}\n", encoding="utf-8")
        # NOTE: this run's database, whatever the shell's MAKECHAT_MONGO_URI says.
        env = {name: value for name, value in os.environ.items() if name != "MAKECHAT_MONGO_URI"}
        env["MAKECHAT_CONFIG"] = str(conf)
        makechat = Path(sys.executable).with_name("makechat")
        serve = subprocess.Popen([str(makechat), "serve", "--host", args.host,
                                  "--port", str(args.port)], env=env, pass_fds=(lock.fd,))
        if wait_until_listening(serve, args.host, args.port):
            print(banner(url, server, var), flush=True)
        else:
            print(f"makechat: the server stopped before answering at {url} "
                  f"(status {serve.returncode}); see the lines above", file=sys.stderr)
        return serve.wait()
    except KeyboardInterrupt:
        return 130
    finally:
        # NOTE: a second Ctrl-C must not cut the clean-up short: the database
        # runs in a session of its own and would be left running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if serve is not None and serve.poll() is None:
            serve.terminate()
            serve.wait()
        server.stop()

