"""The JSON discipline every /api route follows, and request ids."""

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
