"""Incoming webhooks (/hooks/<id>/<secret>, makechat.bots.incoming): Slack's
payloads work unchanged, retries are safe, the secret is only shown once
and never logged, and a webhook's posts are limited."""

import json
import logging
from urllib.parse import urlencode

import pytest
import webtest

from makechat.app import create_app
from makechat.bots.incoming import render
from makechat.exceptions import Invalid


@pytest.fixture
def hooked(config, admin):
    return Hooked(webtest.TestApp(create_app(config)), admin)


class Hooked:
    def __init__(self, app, admin):
        self.app, self.admin = app, admin
        headers = self.headers = {"X-Auth-Token": admin.secret}
        self.room = app.post_json("/api/rooms", {"name": "alerts"},
                                  headers=headers).json["_id"]["$oid"]
        self.bot = app.post_json("/api/bots", {"username": "alertbot"},
                                 headers=headers).json["_id"]["$oid"]
        made = app.post_json("/api/webhooks/incoming", {"room": self.room, "bot": self.bot,
                                                        "name": "grafana"}, headers=headers)
        assert made.status_int == 201, made.json
        self.made = made.json
        from urllib.parse import urlsplit
        self.path = urlsplit(made.json["url"]).path

    def send(self, payload, headers=None, **kwargs):
        return self.app.post(self.path, json.dumps(payload), expect_errors=True,
                             headers={"Content-Type": "application/json", **(headers or {})},
                             **kwargs)

    def messages(self):
        import time
        time.sleep(0.12)
        return self.app.get(f"/api/messages?room={self.room}", headers=self.headers).json


def test_the_url_is_shown_once_and_its_secret_stored_hashed(hooked, raw_db):
    url = hooked.made["url"]
    assert url.startswith("http://localhost") and "/hooks/" in url
    secret = url.rsplit("/", 1)[1]
    stored = raw_db.incoming_webhooks.find_one()
    assert secret not in str(stored) and len(stored["digest"]) == 64
    listed = hooked.app.get(f"/api/webhooks/incoming?room={hooked.room}",
                            headers=hooked.headers).json
    assert "url" not in listed[0] and secret not in json.dumps(listed)


def test_a_text_posts_as_the_bot_and_answers_ok(hooked):
    response = hooked.send({"text": "CPU at 95%"})
    assert response.status_int == 200 and response.text == "ok"
    (message,) = hooked.messages()
    assert message["text"] == "CPU at 95%" and message["author_username"] == "alertbot"
    assert message["is_bot"] is True


def test_slacks_username_and_icon_are_shown_without_changing_the_author(hooked):
    hooked.send({"text": "hi", "username": "admin", "icon_url": "https://example.com/i.png"})
    (message,) = hooked.messages()
    assert message["author_username"] == "alertbot" and message["display_name"] == "admin"
    assert message["icon_url"] == "https://example.com/i.png"


def test_the_form_encoded_payload_variant(hooked):
    body = urlencode({"payload": json.dumps({"text": "from a form"})})
    response = hooked.app.post(hooked.path, body, expect_errors=True, headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_int == 200
    assert [m["text"] for m in hooked.messages()] == ["from a form"]


def test_attachments_and_links_are_rendered_as_text():
    rendered = render({"text": "Build <https://ci.example.com/1|#1> &amp; more", "attachments": [
        {"pretext": "Summary", "title": "Tests", "title_link": "https://ci.example.com/t",
         "text": "412 passed", "fields": [{"title": "Branch", "value": "main"}],
         "footer": "CI"}, {"fallback": "only a fallback", "color": "danger"}]}, 4000)
    assert rendered.text == ("Build #1 (https://ci.example.com/1) & more\n\nSummary\n"
                             "Tests (https://ci.example.com/t)\n412 passed\nBranch: main\nCI"
                             "\n\nonly a fallback")


def test_blocks_are_rendered_as_text():
    rendered = render({"text": "fallback", "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Deploy"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*prod* is up"},
         "fields": [{"type": "mrkdwn", "text": "v1.2"}]},
        {"type": "divider"}]}, 4000)
    assert rendered.text == "Deploy\n*prod* is up\nv1.2"


@pytest.mark.parametrize("payload, words", [
    ({}, "needs a 'text'"), ({"text": "   "}, "needs a 'text'"), ({"text": 5}, "a string"),
    ({"text": "x", "attachments": "no"}, "a list"), ({"text": "x" * 5000}, "at most 4000"),
    ({"text": "x", "icon_url": "javascript:alert(1)"}, "http(s) URL"), ([1], "JSON object"),
])
def test_bad_payloads_are_400_and_post_nothing(hooked, payload, words):
    response = hooked.send(payload)
    assert response.status_int == 400 and words in response.json["description"]
    assert hooked.messages() == []


def test_other_bodies_are_refused_clearly(hooked):
    assert hooked.app.post(hooked.path, "text", expect_errors=True, headers={
        "Content-Type": "text/plain"}).status_int == 415
    assert hooked.app.post(hooked.path, "{", expect_errors=True, headers={
        "Content-Type": "application/json"}).status_int == 400
    assert hooked.app.post(hooked.path, "a=b", expect_errors=True, headers={
        "Content-Type": "application/x-www-form-urlencoded"}).status_int == 400
    deep = "[" * 40 + "]" * 40
    response = hooked.app.post(hooked.path, '{"text": "x", "d": ' + deep + "}",
                               expect_errors=True, headers={"Content-Type": "application/json"})
    assert response.status_int == 400


def test_a_body_too_large_is_413(config, admin):
    hooked = Hooked(webtest.TestApp(create_app(config.replace(max_body=100))), admin)
    assert hooked.send({"text": "x" * 200}).status_int == 413


def test_an_idempotency_key_makes_a_retry_safe(hooked):
    first = hooked.send({"text": "once"}, headers={"Idempotency-Key": "alert-42",
                                                   "Accept": "application/json"})
    again = hooked.send({"text": "once"}, headers={"Idempotency-Key": "alert-42",
                                                   "Accept": "application/json"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json["_id"] == again.json["_id"]
    assert len(hooked.messages()) == 1
    assert hooked.send({"text": "other"}, headers={"Idempotency-Key": "alert-42"}
                       ).status_int == 409


def test_a_wrong_secret_or_a_revoked_webhook_is_404(hooked):
    hook_id = hooked.made["_id"]["$oid"]
    assert hooked.app.post_json(f"/hooks/{hook_id}/wrong", {"text": "x"},
                                expect_errors=True).status_int == 404
    assert hooked.app.delete(f"/api/webhooks/incoming/{hook_id}",
                             headers=hooked.headers).status_int == 204
    assert hooked.send({"text": "x"}).status_int == 404


def test_a_webhook_whose_bot_left_says_so(hooked):
    members = hooked.app.get(f"/api/members?room={hooked.room}", headers=hooked.headers).json
    bot_member = next(m for m in members if m["username"] == "alertbot")
    hooked.app.delete(f"/api/members/{bot_member['_id']['$oid']}", headers=hooked.headers)
    response = hooked.send({"text": "x"})
    assert response.status_int == 403 and "no longer a member" in response.json["description"]


def test_a_webhooks_posts_are_rate_limited(config, admin):
    hooked = Hooked(webtest.TestApp(create_app(config.replace(incoming_webhook_rate_limit=2,
                                                              post_rate_window=3600))), admin)
    answers = [hooked.send({"text": f"n{number}"}) for number in range(3)]
    assert [answer.status_int for answer in answers] == [200, 200, 429]
    assert answers[1].headers["RateLimit-Remaining"] == "0"
    assert "Retry-After" in answers[2].headers


def test_the_secret_is_never_logged(hooked, caplog):
    secret = hooked.path.rsplit("/", 1)[1]
    with caplog.at_level(logging.INFO, logger="makechat.request"):
        hooked.send({"text": "logged?"})
    assert caplog.records and secret not in caplog.text
    assert "/hooks/" in caplog.text and "/***" in caplog.text


def test_render_refuses_what_is_not_an_object():
    with pytest.raises(Invalid):
        render("text", 10)


def test_a_webhooks_message_is_searchable_and_mentions_members(hooked, make_user):
    bob = make_user("bob")
    hooked.app.post_json("/api/members", {"room": hooked.room, "user": str(bob.id)},
                         headers=hooked.headers)
    assert hooked.send({"text": "Deploy FAILED, @bob please look"}).status_int == 200
    message = hooked.messages()[-1]
    assert message["mentions"] == [{"$oid": str(bob.id)}]
    found = hooked.app.get("/api/search?q=deploy%20failed",
                           headers={"X-Auth-Token": bob.secret}).json
    assert [item["_id"] for item in found] == [message["_id"]]


def test_a_webhooks_room_mention_in_a_large_room_mentions_nobody(config, admin):
    hooked = Hooked(webtest.TestApp(create_app(config.replace(mention_room_max_members=0))),
                    admin)
    assert hooked.send({"text": "@room maintenance at noon"}).status_int == 200
    assert "mentions" not in hooked.messages()[-1]
