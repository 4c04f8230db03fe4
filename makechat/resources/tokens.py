"""/api/tokens: a user's API tokens, for bots and scripts."""

import falcon

from makechat import auth
from makechat.ids import parse_id
from makechat.names import normalize_name
from makechat.resources.operation import LINK, PAGING, operation, send_page
from makechat.validation import TOKEN_NAME, object_schema

#: Longest lifetime a token may be given: ten years, in seconds.
MAX_EXPIRES_IN = 10 * 366 * 24 * 3600
TOKEN_SCHEMA = object_schema({
    "name": TOKEN_NAME,
    "expires_in": {"type": "integer", "minimum": 1, "maximum": MAX_EXPIRES_IN,
                   "x-rule": f"a number of seconds from 1 to {MAX_EXPIRES_IN}"},
}, required=("name",))


class TokensResource:
    def __init__(self, config):
        self.config = config

    @operation("List your API tokens (never their secrets)", query=PAGING,
               responses={200: "the tokens, oldest first"}, schemas={200: "Token[]"},
               response_headers=LINK, tag="tokens")
    def on_get(self, req, resp):
        """List the caller's tokens (never a secret)."""
        query = req.context.query
        send_page(req, resp, auth.list_tokens(req.context.user, query["after"], query["limit"]))

    @operation(
        "Create a named API token, for a bot or a script", body=TOKEN_SCHEMA,
        responses={201: "the secret is in `token`, shown this once",
                   400: "'name' is missing or breaks its rule, 'expires_in' is out of range, "
                        "or a parameter is unknown",
                   409: "you already hold `max_tokens_per_user` tokens; revoke one first"},
        schemas={201: "NewToken"},
        description="With `expires_in` (seconds) the token stops working then (401); "
                    "without, it works until revoked.", tag="tokens")
    def on_post(self, req, resp):
        """Create a named token, optionally expiring after ``expires_in`` seconds;
        its secret is in this response and nowhere else."""
        body = req.context.body
        token, secret = auth.issue_token(req.context.user, name=normalize_name(body["name"]),
                                         expires_in=body.get("expires_in"),
                                         max_tokens=self.config.max_tokens_per_user)
        resp.status = falcon.HTTP_201
        resp.media = {**token.to_public(), "token": secret}


class TokenResource:
    @operation("Revoke one of your tokens",
               responses={204: "revoked", 404: "no such token among yours"}, tag="tokens")
    def on_delete(self, req, resp, token_id):
        """Revoke one of the caller's tokens; another user's token is a 404."""
        auth.revoke_token(req.context.user, parse_id(token_id))
        resp.status = falcon.HTTP_204
