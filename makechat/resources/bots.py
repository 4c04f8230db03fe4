"""/api/bots: bot accounts and their tokens."""

import falcon

from makechat import auth
from makechat.bots import accounts as bots
from makechat.exceptions import no_such
from makechat.ids import ID_SCHEMA, parse_id
from makechat.models import User
from makechat.resources.operation import LINK, PAGING, location, operation, send_page
from makechat.resources.tokens import TOKEN_CREATED, TOKEN_RULES, TOKEN_SCHEMA, make_token
from makechat.validation import USERNAME, object_schema

BOT_CREATE_SCHEMA = object_schema({"username": USERNAME, "owner": ID_SCHEMA},
                                  required=("username",))
ELSEWHERE = "no such bot among those you manage"


class BotsResource:
    @operation(
        "Create a bot account (admin)", auth="admin", body=BOT_CREATE_SCHEMA,
        responses={201: "created; Location names the bot", 400: "a parameter is missing, "
                   "unknown or breaks its rule", 404: "no such active user for 'owner'",
                   409: "the username (or one that looks like it) is taken"},
        schemas={201: "User"}, response_headers=location("bot"),
        description="A bot cannot log in with a password: it acts only with tokens, which "
                    "an admin or its `owner` makes with POST /api/bots/{bot_id}/tokens. "
                    "Users, members and messages that are a bot's say `is_bot: true`.",
        tag="bots")
    def on_post(self, req, resp):
        """Create a bot account, optionally owned by a user who then manages it."""
        body = req.context.body
        owner = None
        if "owner" in body:
            owner_id = parse_id(body["owner"])
            owner = User.objects(id=owner_id, is_active=True).first() if owner_id else None
            if owner is None:
                raise no_such("user")
        bot = bots.create_bot(body["username"], owner)
        resp.status = falcon.HTTP_201
        resp.location = f"/api/bots/{bot.id}"
        resp.media = bot.to_public()

    @operation("List the bots you manage (an admin: every bot)", query=PAGING,
               responses={200: "the bots, oldest first"}, schemas={200: "User[]"},
               response_headers=LINK, tag="bots", scope="account")
    def on_get(self, req, resp):
        """List the bots the caller owns (an admin: all of them)."""
        query = req.context.query
        send_page(req, resp, bots.list_bots(req.context.user, query["after"], query["limit"]))


class BotResource:
    @operation("One bot you manage", responses={200: "the bot", 404: ELSEWHERE},
               schemas={200: "User"}, tag="bots", scope="account")
    def on_get(self, req, resp, bot_id):
        """Return a bot the caller manages."""
        resp.media = bots.get_bot(req.context.user, parse_id(bot_id)).to_public()


class BotTokensResource:
    def __init__(self, config):
        self.config = config

    @operation("Make a token for a bot you manage", body=TOKEN_SCHEMA,
               responses={**TOKEN_CREATED, 404: f"{ELSEWHERE}, or a room of 'rooms' is not "
                                                 "visible to you and the bot"},
               schemas={201: "NewToken"}, description=TOKEN_RULES, tag="bots",
               scope="account")
    def on_post(self, req, resp, bot_id):
        """Make a named token for a bot (its owner or an admin); the secret is
        in this response and nowhere else."""
        bot = bots.get_bot(req.context.user, parse_id(bot_id))
        token, secret = make_token(req, bot, self.config.max_tokens_per_user)
        resp.status = falcon.HTTP_201
        resp.media = {**token.to_public(), "token": secret}

    @operation("List a bot's tokens (never their secrets)", query=PAGING,
               responses={200: "the bot's tokens, oldest first", 404: ELSEWHERE},
               schemas={200: "Token[]"}, response_headers=LINK, tag="bots", scope="account")
    def on_get(self, req, resp, bot_id):
        """List the tokens of a bot the caller manages."""
        bot = bots.get_bot(req.context.user, parse_id(bot_id))
        query = req.context.query
        send_page(req, resp, auth.list_tokens(bot, query["after"], query["limit"]))

