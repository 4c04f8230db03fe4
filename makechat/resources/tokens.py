"""/api/tokens: a user's API tokens, for bots and scripts."""

import falcon

from makechat import auth
from makechat.bots.accounts import grant_token
from makechat.ids import ID_SCHEMA, parse_id
from makechat.names import normalize_name
from makechat.resources.operation import LINK, PAGING, operation, send_page
from makechat.scopes import SCOPES
from makechat.validation import TOKEN_NAME, object_schema

#: Longest lifetime a token may be given: ten years, in seconds.
MAX_EXPIRES_IN = 10 * 366 * 24 * 3600
#: Most rooms one token may be limited to.
MAX_TOKEN_ROOMS = 100
TOKEN_FIELDS = {
    "name": TOKEN_NAME,
    "expires_in": {"type": "integer", "minimum": 1, "maximum": MAX_EXPIRES_IN,
                   "x-rule": f"a number of seconds from 1 to {MAX_EXPIRES_IN}"},
    "scopes": {"type": "array", "items": {"enum": list(SCOPES)}, "minItems": 1,
               "maxItems": len(SCOPES) * 2,
               "x-rule": f"a list of scopes among {', '.join(SCOPES)}",
               "description": "What the token may do (without: everything)."},
    "rooms": {"type": "array", "items": ID_SCHEMA, "minItems": 1, "maxItems": MAX_TOKEN_ROOMS,
              "x-rule": f"a list of 1 to {MAX_TOKEN_ROOMS} room ids",
              "description": "The only rooms the token may act in (without: every room)."},
}
TOKEN_SCHEMA = object_schema(TOKEN_FIELDS, required=("name",))
#: The statuses of POST /api/tokens (the first words as before scopes).
TOKEN_CREATED = {201: "the secret is in `token`, shown this once",
                 400: "'name' is missing or breaks its rule, 'expires_in' is out of range, "
                      "or a parameter is unknown",
                 403: "the token lacks the scope `account`, the new token would have a "
                      "scope or a room that this request's token has not, or 'admin' is "
                      "asked for a plain user's token",
                 404: "a room of 'rooms' does not exist or is not visible to you",
                 409: "you already hold `max_tokens_per_user` tokens; revoke one first"}
TOKEN_RULES = ("With `expires_in` (seconds) the token stops working then (401); without, "
               "it works until revoked. With `scopes` it may call only the operations "
               "that need one of them (403 names the scope missing); with `rooms`, only in "
               "those rooms (403). A token never gets more than the token that makes it. "
               "400 also for an unknown scope.")


def make_token(req, holder, max_tokens):
    """Grant a token from a validated body (POST /api/tokens and a bot's tokens)."""
    body = req.context.body
    rooms = [parse_id(room) for room in body["rooms"]] if "rooms" in body else None
    return grant_token(req.context.user, holder, normalize_name(body["name"]),
                       max_tokens=max_tokens, scopes=body.get("scopes"), rooms=rooms,
                       expires_in=body.get("expires_in"))


class TokensResource:
    def __init__(self, config):
        self.config = config

    @operation("List your API tokens (never their secrets)", query=PAGING,
               responses={200: "the tokens, oldest first"}, schemas={200: "Token[]"},
               description="Each shows its `scopes` and `rooms` (null: all), `expires` and "
                           "`last_used` (to the minute).",
               response_headers=LINK, tag="tokens", scope="account")
    def on_get(self, req, resp):
        """List the caller's tokens (never a secret)."""
        query = req.context.query
        send_page(req, resp, auth.list_tokens(req.context.user, query["after"], query["limit"]))

    @operation(
        "Create a named API token, for a bot or a script", body=TOKEN_SCHEMA,
        responses=TOKEN_CREATED, schemas={201: "NewToken"}, description=TOKEN_RULES,
        tag="tokens", scope="account")
    def on_post(self, req, resp):
        """Create a named token, optionally expiring after ``expires_in`` seconds
        and limited to ``scopes`` and ``rooms``; its secret is in this response
        and nowhere else."""
        token, secret = make_token(req, req.context.user.full(),
                                   self.config.max_tokens_per_user)
        resp.status = falcon.HTTP_201
        resp.media = {**token.to_public(), "token": secret}


class TokenResource:
    @operation("Revoke one of your tokens",
               responses={204: "revoked", 404: "no such token among yours"}, tag="tokens",
               scope="account")
    def on_delete(self, req, resp, token_id):
        """Revoke one of the caller's tokens; another user's token is a 404."""
        auth.revoke_token(req.context.user, parse_id(token_id))
        resp.status = falcon.HTTP_204
