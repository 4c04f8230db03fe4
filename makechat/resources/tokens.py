"""/api/tokens: a user's API tokens, for bots and scripts."""

import falcon

from makechat.auth import issue_token
from makechat.hooks import require_token
from makechat.ids import id_or_404
from makechat.models import Token
from makechat.paging import page_by_id
from makechat.validation import TOKEN_NAME, object_schema, validate

TOKEN_SCHEMA = object_schema({"name": TOKEN_NAME}, required=("name",))


@falcon.before(require_token)
class TokensResource:
    def on_get(self, req, resp):
        """List the caller's tokens (never a secret)."""
        tokens = page_by_id(Token.objects(owner=req.context.user.id), req, resp)
        resp.media = [token.to_public() for token in tokens]

    def on_post(self, req, resp):
        """Create a named token; its secret is in this response and nowhere else."""
        body = validate(req.context.body, TOKEN_SCHEMA)
        token, secret = issue_token(req.context.user, name=body["name"])
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
