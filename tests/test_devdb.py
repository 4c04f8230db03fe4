"""devdb/run.py: `make run`'s launcher, as real processes on real ports."""

import configparser
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from devdb.database import free_port, port_is_free
from devdb.run import RunLock
from tests.live import http

# `pytest -m "not slow"` leaves these out: each starts `make run`'s launcher,
# a database and a server.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


class Launcher:
    """`python -m devdb`, as `make run` starts it, from the checkout,
    in a session of its own so that stop() can signal it as a terminal's
    Ctrl-C does (the launcher, the server and its workers at once)."""

    def __init__(self, var, *args, environ=None):
        self.var = Path(var)
        self.log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devdb", "--var", str(var), *args], cwd=ROOT,
            env=dict(os.environ, **(environ or {})), stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, text=True, start_new_session=True)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def wait_for_banner(self, timeout=120):
        """Wait until the launcher says where makechat runs; return the output."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            output = self.output()
            if "Press Ctrl-C to stop." in output:
                return output
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError("no banner:\n" + self.output()[-3000:])

    def wait(self, timeout=120):
        """Wait for a launcher that ends by itself; return (status, output)."""
        self.process.wait(timeout=timeout)
        return self.process.returncode, self.output()

    def stop(self, timeout=90):
        """Ctrl-C; return (status, output)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode, self.output()


@pytest.fixture
def launchers():
    """Start launchers with launchers(var, *args); every one is stopped at the end."""
    started = []

    def start(var, *args, environ=None):
        started.append(Launcher(var, *args, environ=environ))
        return started[-1]
    yield start
    for launcher in started:
        launcher.stop()


def database_port(var):
    parser = configparser.ConfigParser()
    parser.read(var / "makechat.conf")
    return int(parser["makechat"]["mongo_uri"].split(":")[2].split("/")[0])


def test_second_run_on_the_same_var_says_where_and_changes_nothing(tmp_path, launchers):
    var, port = tmp_path / "var", free_port()
    first = launchers(var, "--port", str(port))
    first.wait_for_banner()
    files = {path: path.read_bytes() for path in (var / "makechat.conf", var / "run.lock")}
    names = sorted(path.name for path in var.iterdir())

    status, output = launchers(var, "--port", str(port)).wait()
    assert status == 0
    assert output == (f"makechat is already running on {os.path.relpath(var, ROOT)} at "
                      f"http://127.0.0.1:{port}/ (pid {first.process.pid}); use that one, "
                      "or stop it (Ctrl-C in its terminal) before starting another.\n")
    assert {path: path.read_bytes() for path in files} == files
    assert sorted(path.name for path in var.iterdir()) == names
    assert http("GET", f"http://127.0.0.1:{port}/api/health")[0] == 200


def test_busy_port_is_refused_before_anything_starts(tmp_path, launchers):
    var = tmp_path / "var"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, output = launchers(var, "--port", str(port)).wait()
    assert status == 1
    [line] = output.splitlines()
    assert line.startswith(f"makechat: port {port} on 127.0.0.1 is in use by another program; "
                           "choose another, for example: make run PORT=")
    suggested = int(re.search(r"PORT=(\d+)", line).group(1))
    assert suggested != port and port_is_free(suggested)
    assert not var.exists()


def test_makechat_port_is_served_and_printed(tmp_path, launchers):
    port = free_port()
    launcher = launchers(tmp_path / "var", environ={"MAKECHAT_PORT": str(port)})
    output = launcher.wait_for_banner()
    assert f"makechat is running at http://127.0.0.1:{port}/ " in output
    assert "8080" not in output
    assert http("GET", f"http://127.0.0.1:{port}/api/health")[0] == 200


def test_bad_makechat_port_fails_one_line(tmp_path, launchers):
    status, output = launchers(tmp_path / "var", environ={"MAKECHAT_PORT": "eighty"}).wait()
    assert status == 1
    assert output == ("makechat: MAKECHAT_PORT must be a port number (1-65535), "
                      "not 'eighty'\n")


def test_printed_commands_work_as_printed(tmp_path, launchers):
    """The README's run command, the admin line it prints run as printed from
    the checkout, then curl with the admin's token."""
    port = free_port()
    output = launchers(tmp_path / "var", "--port", str(port)).wait_for_banner()
    [admin_line] = [line.strip() for line in output.splitlines()
                    if "makechat user create -u admin" in line]
    created = subprocess.run(admin_line, shell=True, cwd=ROOT, capture_output=True, text=True,
                             timeout=120)
    assert created.returncode == 0, created.stderr
    assert created.stdout == "created admin admin (admin@example.com)\n"
    assert f"http://127.0.0.1:{port}/docs/" in output
    assert f"(config: {os.path.relpath(tmp_path / 'var' / 'makechat.conf', ROOT)})" \
        in created.stderr
    password = shlex.split(admin_line)[shlex.split(admin_line).index("-p") + 1]
    _, _, login = http("POST", f"http://127.0.0.1:{port}/api/login",
                       {"username": "admin", "password": password})
    curl = subprocess.run(["curl", "-s", "-H", f"X-Auth-Token: {login['token']}",
                           f"http://127.0.0.1:{port}/api/users/me"],
                          capture_output=True, text=True, timeout=30)
    assert '"username": "admin"' in curl.stdout
    assert '"is_superuser": true' in curl.stdout


def test_stale_lock_file_blocks_nothing(tmp_path, launchers):
    # What a run killed with SIGKILL leaves: the file, but no process holding it.
    var, port = tmp_path / "var", free_port()
    var.mkdir()
    (var / "run.lock").write_text('{"pid": 999999, "url": "http://127.0.0.1:1/"}\n')
    output = launchers(var, "--port", str(port)).wait_for_banner()
    assert f"makechat is running at http://127.0.0.1:{port}/ " in output
    assert '"pid": ' in (var / "run.lock").read_text()
    assert "999999" not in (var / "run.lock").read_text()


def test_ctrl_c_stops_everything_quietly_and_frees_the_folder(tmp_path, launchers):
    var, port = tmp_path / "var", free_port()
    launcher = launchers(var, "--port", str(port))
    launcher.wait_for_banner()
    for _ in range(8):
        assert http("GET", f"http://127.0.0.1:{port}/api/health")[0] == 200
    status, output = launcher.stop()
    assert status == 0, output[-3000:]
    assert "Exception ignored" not in output and "Traceback" not in output
    assert port_is_free(port) and port_is_free(database_port(var))
    assert RunLock(var / "run.lock").holder() is None
