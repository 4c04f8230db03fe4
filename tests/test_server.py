"""`makechat serve` and `make run`'s launcher, as real processes over real HTTP."""

import signal
import time

import pytest

from tests.live import LiveServer, http

# `pytest -m "not slow"` leaves these out: each starts `makechat serve`.
pytestmark = pytest.mark.slow


@pytest.fixture
def live_env(config):
    return {"MAKECHAT_MONGO_URI": config.mongo_uri, "MAKECHAT_BCRYPT_ROUNDS": "4",
            "MAKECHAT_WORKERS": "2"}


def test_serve_answers_and_stops_on_sigterm(live_env, make_user):
    make_user("admin", password="admin pass 1", admin=True)
    server = LiveServer(live_env).start()
    try:
        status, _, body = http("POST", server.url + "/api/login",
                               {"username": "admin", "password": "admin pass 1"})
        assert status == 200
        status, headers, me = http("GET", server.url + "/api/users/me", token=body["token"])
        assert status == 200 and me["username"] == "admin" and me["is_superuser"] is True
        assert headers["X-Request-Id"]
    finally:
        started = time.monotonic()
        code, output = server.stop(signal.SIGTERM, timeout=60)
    assert code == 0, output[-2000:]
    assert time.monotonic() - started < 40
    assert "Traceback" not in output


def test_serve_stops_on_ctrl_c(live_env):
    server = LiveServer(live_env).start()
    code, output = server.stop(signal.SIGINT, timeout=60)
    assert code == 0, output[-2000:]
    assert "Traceback" not in output


def test_serve_stops_quietly_on_ctrl_c_to_its_process_group(live_env):
    """A terminal's Ctrl-C reaches the arbiter and every worker at once."""
    server = LiveServer(live_env, new_session=True).start()
    for _ in range(8):  # database clients (and pymongo's atexit work) in both workers
        assert http("GET", server.url + "/api/health")[0] == 200
    code, output = server.stop(signal.SIGINT, timeout=60, group=True)
    assert code == 0, output[-2000:]
    assert "Exception ignored" not in output
    assert "SystemExit" not in output


def test_serve_access_log_has_request_id(live_env):
    server = LiveServer(live_env).start()
    http("GET", server.url + "/api/users/me", headers={"X-Request-Id": "trace-me-42"})
    _, output = server.stop()
    assert "rid=trace-me-42" in output


def test_serve_opens_no_control_socket(live_env):
    server = LiveServer(live_env).start()
    _, output = server.stop()
    assert "Control socket listening" not in output


def test_serve_names_its_database(live_env):
    server = LiveServer(live_env).start()
    _, output = server.stop()
    assert "makechat: using database makechat_test at mongodb://127.0.0.1:" in output
    # Naming it imports no pymongo before gevent patches the workers.
    assert "MonkeyPatchWarning" not in output
