"""The JSON discipline every /api route follows (makechat/middleware.py, with
the body reading of makechat/bodies.py), and request ids."""

import pytest


def test_accept_without_json_406(api, make_user):
    resp = api.as_user(make_user()).get("/api/users/me", headers={"Accept": "text/html"})
    assert resp.status_int == 406
    assert resp.json == {"title": "Media type not acceptable",
                         "description": "This API only supports responses encoded as JSON."}


def test_accept_any_is_fine(api, make_user):
    assert api.as_user(make_user()).get("/api/users/me",
                                        headers={"Accept": "*/*"}).status_int == 200


def test_body_not_json_415(app):
    resp = app.post("/api/login", "username=a&password=b",
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    expect_errors=True)
    assert resp.status_int == 415
    assert set(resp.json) == {"title", "description"}


@pytest.mark.parametrize("raw", [b"{not json", b'{"a": NaN}', b"\xff\xfe"])
def test_malformed_json_400(app, raw):
    resp = app.post("/api/login", raw, headers={"Content-Type": "application/json"},
                    expect_errors=True)
    assert resp.status_int == 400
    assert resp.json["title"] == "Malformed JSON"


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"42", b"null"])
def test_body_not_an_object_400(app, raw):
    resp = app.post("/api/login", raw, headers={"Content-Type": "application/json"},
                    expect_errors=True)
    assert resp.status_int == 400
    assert resp.json["title"] == "Invalid body"


def test_body_over_max_body_413(app, config):
    body = b'{"username": "' + b"a" * config.max_body + b'"}'
    resp = app.post("/api/login", body, headers={"Content-Type": "application/json"},
                    expect_errors=True)
    assert resp.status_int == 413
    assert set(resp.json) == {"title", "description"}


def test_wrong_method_405_with_allow(api, make_user):
    resp = api.as_user(make_user()).put("/api/tokens", {"data": "test"})
    assert resp.status_int == 405
    assert set(resp.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert set(resp.json) == {"title", "description"}


def test_unknown_route_404_json(api):
    resp = api.get("/api/nothing-here")
    assert resp.status_int == 404
    assert set(resp.json) == {"title", "description"}


def test_request_id_generated_and_echoed(api):
    resp = api.get("/api/users/me")
    assert len(resp.headers["X-Request-Id"]) == 32
    resp = api.get("/api/users/me", headers={"X-Request-Id": "abc-123"})
    assert resp.headers["X-Request-Id"] == "abc-123"


def test_responses_are_not_cached(api, make_user):
    resp = api.as_user(make_user()).get("/api/users/me")
    assert "no-store" in resp.headers["Cache-Control"]


# -- bodies a hostile client sends (issue 9) ---------------------------------


def _raw_post(app, path, raw, **headers):
    return app.post(path, raw, headers={"Content-Type": "application/json", **headers},
                    expect_errors=True)


@pytest.mark.parametrize("raw", [
    b'{"username": "\\ud800", "password": "x"}',          # a lone high surrogate
    b'{"username": "a", "password": "\\udfff\\u0041"}',    # a lone low surrogate
    b'{"\\ud800": 1}',                                     # in a key
    b'{"username": "a", "password": "b", "x": ["\\udbff"]}',
])
def test_lone_surrogate_in_a_json_string_400(app, raw):
    resp = _raw_post(app, "/api/login", raw)
    assert resp.status_int == 400
    assert resp.json["title"] == "Malformed JSON"
    assert "surrogate" in resp.json["description"]


def test_surrogate_pair_escape_is_fine(app, make_user):
    """An escaped pair is one real character (here U+1F600), not a surrogate."""
    resp = _raw_post(app, "/api/login", b'{"username": "\\ud83d\\ude00", "password": "x"}')
    assert resp.status_int == 401


@pytest.mark.parametrize("depth", [1000, 30000])
def test_json_nested_thousands_deep_400(app, depth):
    raw = b'{"a": ' + b"[" * depth + b"]" * depth + b"}"
    resp = _raw_post(app, "/api/login", raw)
    assert resp.status_int == 400
    assert resp.json["title"] == "Malformed JSON"
    assert "deeper than" in resp.json["description"]


def test_json_nesting_within_max_json_depth_is_parsed(app):
    raw = b'{"username": "a", "password": "b", "x": ' + b"[" * 20 + b"]" * 20 + b"}"
    resp = _raw_post(app, "/api/login", raw)
    # Parsed: the schema, not the parser, refuses the unknown field.
    assert resp.status_int == 400 and resp.json["title"] == "Unknown parameter"


def test_incomplete_body_400(app):
    """A body shorter than its Content-Length (the client went away) is refused."""
    resp = app.request("/api/login", method="POST", body=b'{"username"',
                       headers={"Content-Type": "application/json", "Content-Length": "100"},
                       expect_errors=True)
    assert resp.status_int == 400
    assert resp.json["title"] == "Incomplete body"


# -- over real HTTP: chunked and slow bodies, gunicorn's own errors ----------


@pytest.fixture
def live(config):
    from tests.live import LiveServer
    server = LiveServer({"MAKECHAT_MONGO_URI": config.mongo_uri, "MAKECHAT_BCRYPT_ROUNDS": "4",
                         "MAKECHAT_WORKERS": "1", "MAKECHAT_BODY_TIMEOUT": "2",
                         "MAKECHAT_MAX_BODY_READS_PER_ADDRESS": "3"}).start()
    yield server
    server.stop()


def _exchange(port, raw, timeout=15):
    """Send raw bytes; return everything the server sends until it closes."""
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk


def _chunked(body):
    return f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"


@pytest.mark.slow
def test_chunked_body_is_read(live, make_user):
    import json
    user = make_user("alice", admin=True)
    body = json.dumps({"name": "chunked room"}).encode()
    reply = _exchange(live.port, (
        "POST /api/rooms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"X-Auth-Token: {user.secret}\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n").encode() + _chunked(body))
    assert reply.startswith(b"HTTP/1.1 201 "), reply[:300]
    assert b'"name": "chunked room"' in reply


@pytest.mark.slow
def test_chunked_patch_is_applied_not_ignored(live, make_user, api):
    import json

    from makechat.models import Room
    user = make_user("alice", admin=True)
    room_id = api.as_user(user).post("/api/rooms", {"name": "before"}).json["_id"]["$oid"]
    body = json.dumps({"name": "after"}).encode()
    reply = _exchange(live.port, (
        f"PATCH /api/rooms/{room_id} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"X-Auth-Token: {user.secret}\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n").encode() + _chunked(body))
    assert reply.startswith(b"HTTP/1.1 200 "), reply[:300]
    assert Room.objects.get(id=room_id).name == "after"


@pytest.mark.slow
def test_chunked_body_over_max_body_413(live, config):
    body = b'{"username": "' + b"a" * config.max_body + b'", "password": "x"}'
    reply = _exchange(live.port, (
        b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n") + _chunked(body))
    assert reply.startswith(b"HTTP/1.1 413 "), reply[:300]


@pytest.mark.slow
def test_slow_body_gets_408_and_the_connection_closes(live):
    """Headers, then a trickle: the body must arrive within body_timeout (2 s
    here). The bound is the point, so it is checked, generously."""
    import socket
    import time
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", live.port), timeout=30) as sock:
        sock.sendall(b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 60000\r\n\r\n{")
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break  # closed by the server
            received += chunk
    assert received.startswith(b"HTTP/1.1 408 "), received[:300]
    assert b'"title": "Request timeout"' in received
    assert time.monotonic() - started < 20


@pytest.mark.slow
def test_too_many_bodies_from_one_address_429(live):
    """Beyond max_body_reads_per_address bodies in flight (3 here), a new one is
    refused at once instead of taking another connection."""
    import socket
    slow = []
    try:
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", live.port), timeout=30)
            sock.sendall(b"POST /api/login HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            slow.append(sock)
        import time
        time.sleep(0.5)  # let the server start reading them
        reply = _exchange(live.port, b"POST /api/login HTTP/1.1\r\nHost: x\r\n"
                                     b"Content-Type: application/json\r\nContent-Length: 2\r\n"
                                     b"Connection: close\r\n\r\n{}")
        assert reply.startswith(b"HTTP/1.1 429 "), reply[:300]
        assert b"Retry-After" in reply or b"retry-after" in reply
    finally:
        for sock in slow:
            sock.close()


@pytest.mark.slow
@pytest.mark.parametrize("raw,status", [
    (b"GET /api/health?" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
    (b"GET /api/health HTTP/1.1\r\nHost: x\r\n"
     + b"".join(b"X-H%d: 1\r\n" % number for number in range(120)) + b"\r\n", 431),
    (b"NOT A REQUEST LINE\r\n\r\n", 400),
])
def test_gunicorn_errors_are_json(live, raw, status):
    import json
    reply = _exchange(live.port, raw)
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), head
    assert b"application/json" in head
    parsed = json.loads(body)
    assert set(parsed) == {"title", "description"} and parsed["description"]
