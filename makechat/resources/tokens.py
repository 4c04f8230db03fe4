"""/api/tokens: a user's API tokens, for bots and scripts."""

import falcon

from makechat.auth import issue_token
from makechat.hooks import require_token
from makechat.ids import id_or_404
from makechat.models import Token
from makechat.paging import page_by_id
from makechat.names import normalize_name
from makechat.validation import TOKEN_NAME, object_schema, validate

#: Longest lifetime a token may be given: ten years, in seconds.
MAX_EXPIRES_IN = 10 * 366 * 24 * 3600
TOKEN_SCHEMA = object_schema({
    "name": TOKEN_NAME,
    "expires_in": {"type": "integer", "minimum": 1, "maximum": MAX_EXPIRES_IN,
                   "x-rule": f"a number of seconds from 1 to {MAX_EXPIRES_IN}"},
}, required=("name",))


@falcon.before(require_token)
class TokensResource:
    def __init__(self, config):
        self.config = config

    def on_get(self, req, resp):
        """List the caller's tokens (never a secret)."""
        tokens = page_by_id(Token.objects(owner=req.context.user.id), req, resp)
        resp.media = [token.to_public() for token in tokens]

    def on_post(self, req, resp):
        """Create a named token, optionally expiring after ``expires_in`` seconds;
        its secret is in this response and nowhere else."""
        body = validate(req.context.body, TOKEN_SCHEMA)
        token, secret = issue_token(req.context.user, name=normalize_name(body["name"]),
                                    expires_in=body.get("expires_in"),
                                    max_tokens=self.config.max_tokens_per_user)
        resp.status = falcon.HTTP_201
        resp.media = {**token.to_public(), "token": secret}


@falcon.before(require_token)
class TokenResource:
    def on_delete(self, req, resp, token_id):
        """Revoke one of the caller's tokens; another user's token is a 404."""
        deleted = Token.objects(id=id_or_404(token_id, "token"),
                                owner=req.context.user.id).delete()
        if not deleted:
            raise falcon.HTTPNotFound(title="Not found", description="No such token.")
        resp.status = falcon.HTTP_204
