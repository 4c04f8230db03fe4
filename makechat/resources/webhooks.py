"""/api/webhooks/incoming and /api/webhooks/outgoing: a room's webhooks,
for its owners and admins; an outgoing webhook's deliveries and replay."""

import falcon

from makechat.bots.documents import DEAD, DELIVERED, PENDING
from makechat.chat.events import PUBLIC_TYPES
from makechat.ids import ID_SCHEMA, parse_id
from makechat.names import name_schema
from makechat.resources.operation import (
    LIMIT,
    ROOM,
    Query,
    integer,
    operation,
    set_next_link,
)
from makechat.validation import object_schema

NAME = name_schema(100)
HIDDEN = "no such webhook in a room you manage"
NOT_MANAGER = "you are neither an owner of the room nor an admin"
NOT_FOUND = "no such room (or invisible to you), or no such active bot among those you manage"
INCOMING_SCHEMA = object_schema({"room": ID_SCHEMA, "bot": ID_SCHEMA, "name": NAME},
                                required=("room", "bot", "name"))
OUTGOING_SCHEMA = object_schema({
    "room": ID_SCHEMA, "bot": ID_SCHEMA, "name": NAME,
    "url": {"type": "string", "maxLength": 2000, "pattern": "^https?://",
            "x-rule": "an https:// URL (http:// with `webhooks_allow_http`)"},
    "events": {"type": "array", "items": {"enum": list(PUBLIC_TYPES)}, "minItems": 1,
               "maxItems": len(PUBLIC_TYPES),
               "x-rule": f"a list of event types among {', '.join(PUBLIC_TYPES)}"},
    "mentions_only": {"type": "boolean"},
    "triggers": {"type": "array", "maxItems": 20,
                 "items": {"type": "string", "minLength": 1, "maxLength": 50,
                           "pattern": "^[^\\s]+$"},
                 "x-rule": "a list of at most 20 words"},
}, required=("room", "bot", "name", "url"))


STATES = (PENDING, DELIVERED, DEAD)


def _read_state(param, req):
    value = req.get_param(param.name)
    if value is not None and value not in STATES:
        raise falcon.HTTPInvalidParam(f"The value must be one of {', '.join(STATES)}.",
                                      param.name)
    return value


class IncomingWebhooksResource:
    def __init__(self, webhooks):
        self.webhooks = webhooks

    @operation(
        "Make an incoming webhook for a room (owner or admin): its URL is shown once",
        body=INCOMING_SCHEMA,
        responses={201: "made; `url` (with its secret) is in this response and nowhere else",
                   400: "a parameter is missing, unknown or breaks its rule",
                   403: NOT_MANAGER, 404: NOT_FOUND,
                   409: "the room has `max_webhooks_per_room` incoming webhooks"},
        schemas={201: "NewIncomingWebhook"},
        description="A POST to the URL (Slack's incoming-webhook format) posts in the room "
                    "as the bot, which is added to the room if it is not in it.",
        tag="webhooks", scope="rooms:write")
    def on_post(self, req, resp):
        """Make an incoming webhook posting in a room as a bot the caller manages."""
        body = req.context.body
        hook, path = self.webhooks.create_incoming(req.context.user, parse_id(body["room"]),
                                                   parse_id(body["bot"]), body["name"])
        resp.status = falcon.HTTP_201
        resp.media = {**hook.to_public(), "url": req.forwarded_prefix + path}

    @operation("A room's incoming webhooks (owner or admin; never their secrets)",
               query=(ROOM,),
               responses={200: "the webhooks, oldest first", 403: NOT_MANAGER,
                          404: "no such room, or an invisible room you are not in"},
               schemas={200: "IncomingWebhook[]"}, tag="webhooks", scope="rooms:read")
    def on_get(self, req, resp):
        """List a room's incoming webhooks."""
        resp.media = self.webhooks.list_incoming(req.context.user, req.context.query["room"])


class IncomingWebhookResource:
    def __init__(self, webhooks):
        self.webhooks = webhooks

    @operation("Revoke an incoming webhook (owner or admin)",
               responses={204: "revoked: its URL answers 404 from now on", 403: NOT_MANAGER,
                          404: HIDDEN}, tag="webhooks", scope="rooms:write")
    def on_delete(self, req, resp, hook_id):
        """Revoke an incoming webhook."""
        self.webhooks.delete_incoming(req.context.user, parse_id(hook_id))
        resp.status = falcon.HTTP_204


class OutgoingWebhooksResource:
    def __init__(self, webhooks):
        self.webhooks = webhooks

    @operation(
        "Register an outgoing webhook for a room (owner or admin): its signing secret is "
        "shown once", body=OUTGOING_SCHEMA,
        responses={201: "registered; `secret` (Standard Webhooks' `whsec_...`) is in this "
                        "response and nowhere else",
                   400: "a parameter is missing, unknown or breaks its rule, or the URL is "
                        "refused: not https (or http with `webhooks_allow_http`), not "
                        "resolving, or resolving to a loopback, private, link-local or other "
                        "non-public address (without `webhooks_allow_private`)",
                   403: NOT_MANAGER, 404: NOT_FOUND,
                   409: "the room has `max_webhooks_per_room` outgoing webhooks"},
        schemas={201: "NewOutgoingWebhook"},
        description="From now on, each event of the room it asks for (`events`, messages by "
                    "default; with `mentions_only` or `triggers`, only messages that mention "
                    "the bot or begin with a trigger word) is POSTed to the URL, signed the "
                    "Standard Webhooks way, retried with backoff until acknowledged (2xx) or "
                    "`webhook_give_up_after`. An answer `{\"text\": ...}` posts in the room "
                    "as the bot.", tag="webhooks", scope="rooms:write")
    def on_post(self, req, resp):
        """Register an outgoing webhook for a room's events."""
        body = req.context.body
        hook, secret = self.webhooks.create_outgoing(
            req.context.user, parse_id(body["room"]), parse_id(body["bot"]), name=body["name"],
            url=body["url"], events=body.get("events"),
            mentions_only=body.get("mentions_only", False), triggers=body.get("triggers", ()))
        resp.status = falcon.HTTP_201
        resp.media = {**hook, "secret": secret}

    @operation("A room's outgoing webhooks (owner or admin; never their secrets)",
               query=(ROOM,),
               responses={200: "the webhooks, oldest first", 403: NOT_MANAGER,
                          404: "no such room, or an invisible room you are not in"},
               schemas={200: "OutgoingWebhook[]"}, tag="webhooks", scope="rooms:read")
    def on_get(self, req, resp):
        """List a room's outgoing webhooks."""
        resp.media = self.webhooks.list_outgoing(req.context.user, req.context.query["room"])


class OutgoingWebhookResource:
    def __init__(self, webhooks):
        self.webhooks = webhooks

    @operation("One outgoing webhook (owner or admin)",
               responses={200: "the webhook", 404: HIDDEN}, schemas={200: "OutgoingWebhook"},
               tag="webhooks", scope="rooms:read")
    def on_get(self, req, resp, hook_id):
        """Return an outgoing webhook of a room the caller manages."""
        resp.media = self.webhooks.get_outgoing(req.context.user, parse_id(hook_id))

    @operation("Delete an outgoing webhook with its deliveries (owner or admin)",
               responses={204: "deleted; nothing more is sent", 404: HIDDEN},
               tag="webhooks", scope="rooms:write")
    def on_delete(self, req, resp, hook_id):
        """Delete an outgoing webhook and its delivery log."""
        self.webhooks.delete_outgoing(req.context.user, parse_id(hook_id))
        resp.status = falcon.HTTP_204


class DeliveriesResource:
    def __init__(self, webhooks):
        self.webhooks = webhooks
        self.query = (Query("state", {"type": "string", "enum": list(STATES)},
                            "Only deliveries in this state.", False, _read_state),
                      integer("after", "Only deliveries after this seq.", minimum=0), LIMIT)

    @operation(
        "An outgoing webhook's deliveries, by seq, each with its attempts (owner or admin)",
        query="query",
        responses={200: "the deliveries: `state` (pending, delivered or dead), `attempts`, "
                        "`next_attempt`, and `log`: each attempt's time, status, latency and "
                        "error", 404: HIDDEN},
        schemas={200: "Delivery[]"}, tag="webhooks", scope="rooms:read")
    def on_get(self, req, resp, hook_id):
        """List a webhook's deliveries with their attempts."""
        query = req.context.query
        page = self.webhooks.deliveries(req.context.user, parse_id(hook_id),
                                        state=query["state"], after=query["after"],
                                        limit=query["limit"])
        if page.next_after is not None:
            set_next_link(req, resp, after=str(page.next_after), limit=query["limit"])
        resp.media = page.items


class ReplayResource:
    def __init__(self, webhooks):
        self.webhooks = webhooks
        self.query = (integer("from_seq", "The seq of the room to resend from.", required=True,
                              minimum=1),)

    @operation(
        "Send an outgoing webhook's events again, from a seq (owner or admin)", query="query",
        responses={200: "queued: how many, up to which seq, and where to go on from if "
                        "`webhook_replay_max` stopped it", 404: HIDDEN},
        schemas={200: "Replay"},
        description="Every event from `from_seq` that the webhook asks for, delivered or "
                    "dead, is queued again, with its original `webhook-id`.",
        tag="webhooks", scope="rooms:write")
    def on_post(self, req, resp, hook_id):
        """Queue a webhook's events from a seq for delivery again."""
        resp.media = self.webhooks.replay(req.context.user, parse_id(hook_id),
                                          req.context.query["from_seq"])
