"""A disposable local database server for tests, benchmarks and ``make run``.

``mongod`` is used when it is on PATH; otherwise FerretDB v1.24.2 (a MongoDB
wire-protocol server on SQLite), built once by scripts/build-ferretdb.sh into
~/.cache/makechat.
"""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

FERRETDB_VERSION = "v1.24.2"
REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = REPO_ROOT / "scripts" / "build-ferretdb.sh"


def cache_dir():
    return Path(os.environ.get("MAKECHAT_CACHE", Path.home() / ".cache" / "makechat"))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port, host="127.0.0.1"):
    """True if a server could listen on host:port now. SO_REUSEADDR as
    gunicorn sets it, so a port left in TIME_WAIT by a stopped server counts
    as free, and one that something listens on does not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def ferretdb_binary():
    """Return the FerretDB binary, building it once if needed."""
    if os.environ.get("MAKECHAT_FERRETDB"):
        return Path(os.environ["MAKECHAT_FERRETDB"])
    binary = cache_dir() / "bin" / f"ferretdb-{FERRETDB_VERSION}"
    if not binary.exists():
        if not BUILD_SCRIPT.exists():
            raise RuntimeError(f"FerretDB is not built and {BUILD_SCRIPT} is missing")
        subprocess.run(["bash", str(BUILD_SCRIPT)], check=True, stdout=subprocess.DEVNULL)
    return binary


class DatabaseServer:
    """A mongod or FerretDB process on a loopback port, with its data in data_dir."""

    def __init__(self, data_dir, port=None, prefer_mongod=True, pass_fds=()):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.process = None
        self.pass_fds = tuple(pass_fds)
        self.mongod = shutil.which("mongod") if prefer_mongod else None
        self.log_path = self.data_dir / "server.log"

    @property
    def kind(self):
        return "mongod" if self.mongod else f"FerretDB {FERRETDB_VERSION}"

    def uri(self, database="makechat"):
        return f"mongodb://127.0.0.1:{self.port}/{database}"

    def command(self):
        if self.mongod:
            return [self.mongod, "--dbpath", str(self.data_dir / "db"), "--port", str(self.port),
                    "--bind_ip", "127.0.0.1", "--quiet"]
        return [str(ferretdb_binary()), "--handler=sqlite",
                f"--sqlite-url=file:{self.data_dir / 'db'}/",
                f"--state-dir={self.data_dir}", f"--listen-addr=127.0.0.1:{self.port}",
                "--debug-addr=-", "--telemetry=disable", "--log-level=warn"]

    def start(self, timeout=30):
        (self.data_dir / "db").mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True,
                                        pass_fds=self.pass_fds)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited at start; see {self.log_path}")
            if self.answers():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.kind} did not answer within {timeout}s; see {self.log_path}")

    def answers(self):
        import pymongo
        client = pymongo.MongoClient(self.uri(), serverSelectionTimeoutMS=500)
        try:
            client.admin.command("ping")
            return True
        except pymongo.errors.PyMongoError:
            return False
        finally:
            client.close()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
