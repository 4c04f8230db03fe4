"""The database goes away and comes back: 503s within a bound, then recovery
with every acknowledged write still there.

Each test runs its own database server (never the session-wide one), kills it
with SIGKILL (a crash, not a clean shutdown), and restarts it on the same
port with the same data folder.
"""

import threading
import time

import pytest
import webtest

from devdb.database import DatabaseServer
from makechat.app import create_app
from makechat.config import Config
from makechat.models import User
from tests.live import LiveServer, http

# `pytest -m "not slow"` leaves these out: they start and stop database servers of their own.
pytestmark = pytest.mark.slow

DB_TIMEOUT = 1.0
#: Longest a request may take while the database is down: server selection
#: (db_timeout) plus the index gate's own try, plus headroom for a busy machine.
BOUND = 3 * DB_TIMEOUT + 2.0


@pytest.fixture
def own_server(tmp_path):
    server = DatabaseServer(tmp_path / "outage-db").start()
    yield server
    server.stop()


@pytest.fixture
def outage_config(own_server):
    return Config(mongo_uri=own_server.uri("makechat_outage"), bcrypt_rounds=4,
                  db_timeout=DB_TIMEOUT)


def crash(server):
    server.process.kill()
    server.process.wait()
    server.process = None


def restart(server):
    return DatabaseServer(server.data_dir, port=server.port).start()


def until(check, timeout=20.0):
    """Call check() until it returns a truthy value; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def register(app, username):
    body = {"username": username, "password": "outage pass 1",
            "email": f"{username}@example.com"}
    response = app.post_json("/api/register", body, expect_errors=True)
    assert response.status_int == 201, response.text
    return response.json["token"]


def me(app, token):
    return app.get("/api/users/me", headers={"X-Auth-Token": token}, expect_errors=True)


def test_request_during_outage_gets_503_within_bound(outage_config, own_server):
    app = webtest.TestApp(create_app(outage_config))
    token = register(app, "alice")
    crash(own_server)
    for _ in range(3):
        started = time.monotonic()
        response = me(app, token)
        elapsed = time.monotonic() - started
        assert response.status_int == 503
        assert set(response.json) == {"title", "description"}
        assert "Traceback" not in response.text
        assert response.headers["Retry-After"]
        assert elapsed < BOUND


def test_write_during_outage_gets_503(outage_config, own_server):
    app = webtest.TestApp(create_app(outage_config))
    register(app, "alice")
    crash(own_server)
    response = app.post_json("/api/login", {"username": "alice", "password": "outage pass 1"},
                             expect_errors=True)
    assert response.status_int == 503
    assert set(response.json) == {"title", "description"}


def test_first_request_of_a_process_during_outage_gets_503(outage_config, own_server):
    """The index gate has never run: it fails with 503 and is retried later."""
    crash(own_server)
    app = webtest.TestApp(create_app(outage_config))
    response = app.get("/api/users/me", headers={"X-Auth-Token": "x" * 32}, expect_errors=True)
    assert response.status_int == 503
    restarted = restart(own_server)
    try:
        assert until(lambda: me(app, "x" * 32).status_int != 503)
        assert me(app, "x" * 32).status_int == 401
    finally:
        restarted.stop()


def test_health_during_outage_returns_503(outage_config, own_server):
    app = webtest.TestApp(create_app(outage_config))
    assert app.get("/api/health").json["database"] == "ok"
    crash(own_server)
    response = app.get("/api/health", expect_errors=True)
    assert response.status_int == 503
    assert response.json["database"] == "unavailable"


def test_service_recovers_after_restart_with_acknowledged_writes(outage_config, own_server):
    app = webtest.TestApp(create_app(outage_config))
    tokens = [register(app, f"user{number}") for number in range(5)]
    crash(own_server)
    assert me(app, tokens[0]).status_int == 503
    restarted = restart(own_server)
    try:
        assert until(lambda: me(app, tokens[0]).status_int == 200)
        assert [me(app, token).json["username"] for token in tokens] == [
            f"user{number}" for number in range(5)]
        assert app.get("/api/health").json["database"] == "ok"
    finally:
        restarted.stop()


def test_live_server_answers_503_during_outage_and_recovers(outage_config, own_server):
    """A real `makechat serve` (gevent workers): 503 JSON with no traceback,
    a log line carrying the request id, and recovery without a restart."""
    server = LiveServer({"MAKECHAT_MONGO_URI": outage_config.mongo_uri,
                         "MAKECHAT_BCRYPT_ROUNDS": "4", "MAKECHAT_DB_TIMEOUT": str(DB_TIMEOUT),
                         "MAKECHAT_WORKERS": "1"}).start()
    restarted = None
    try:
        status, _, body = http("POST", server.url + "/api/register",
                               {"username": "alice", "password": "outage pass 1",
                                "email": "alice@example.com"})
        assert status == 201
        token = body["token"]
        crash(own_server)
        started = time.monotonic()
        status, headers, body = http("GET", server.url + "/api/users/me", token=token,
                                     headers={"X-Request-Id": "outage-trace-1"})
        assert status == 503 and set(body) == {"title", "description"}
        assert headers["X-Request-Id"] == "outage-trace-1"
        assert time.monotonic() - started < BOUND
        restarted = restart(own_server)
        recovered = until(lambda: http("GET", server.url + "/api/users/me", token=token)[0] == 200)
        assert recovered
    finally:
        _, output = server.stop()
        if restarted:
            restarted.stop()
    assert "Traceback" not in output
    app_lines = [line for line in output.splitlines() if "[outage-trace-1]" in line]
    assert any("makechat.errors" in line and "database unavailable" in line
               for line in app_lines), output[-3000:]


def test_waiting_request_survives_outage_and_sees_later_post(outage_config, own_server):
    """A follower parked on ?wait= while the database crashes neither hangs nor
    errors past its wait; after recovery a post reaches the next wait."""
    app = webtest.TestApp(create_app(outage_config.replace(poll_interval=0.1)))
    token = register(app, "alice")
    admin_headers = {"X-Auth-Token": token}
    from makechat.accounts import set_superuser
    set_superuser(User.objects.get(username="alice"), True)  # and her token says so
    room = app.post_json("/api/rooms", {"name": "ops"}, headers=admin_headers).json["_id"]["$oid"]
    result = {}

    def follow():
        started = time.monotonic()
        response = app.get(f"/api/messages?room={room}&after=0&wait=3", headers=admin_headers,
                           expect_errors=True)
        result.update(status=response.status_int, body=response.json,
                      elapsed=time.monotonic() - started)

    thread = threading.Thread(target=follow)
    thread.start()
    time.sleep(0.5)  # parked
    crash(own_server)
    thread.join(timeout=3 + BOUND)
    assert not thread.is_alive()
    assert result["status"] in (200, 503)
    assert result["elapsed"] <= 3 + BOUND
    if result["status"] == 200:
        assert result["body"] == []
    restarted = restart(own_server)
    try:
        posted = until(lambda: app.post_json("/api/messages", {"room": room, "text": "back"},
                                             headers=admin_headers, expect_errors=True)
                       .status_int == 201)
        assert posted
        follow()
        assert result["status"] == 200 and [m["text"] for m in result["body"]] == ["back"]
    finally:
        restarted.stop()
