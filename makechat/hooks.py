"""Falcon hooks that guard responders: ``@falcon.before(require_token)``."""

import falcon

from makechat.auth import token_from_headers, user_for_token

CHALLENGES = ['Token header="X-Auth-Token"', 'Bearer realm="makechat"']


def require_token(req, resp, resource, params):
    """Put the caller on req.context.user, or raise 401.

    The token comes in ``X-Auth-Token`` (the manual's header) or as
    ``Authorization: Bearer <token>`` (what most HTTP clients send)."""
    secret = token_from_headers(req.get_header)
    if not secret:
        raise falcon.HTTPUnauthorized(
            title="Not authenticated",
            # NOTE: the manual's text, word for word.
            description="Please provide an auth token or login.",
            challenges=CHALLENGES)
    user, token = user_for_token(secret)
    if user is None:
        # NOTE: the manual answers a bad token with the sentence above; it
        # stays first, and saying why saves a newcomer the guess.
        raise falcon.HTTPUnauthorized(
            title="Not authenticated",
            description="Please provide an auth token or login. This token is not valid: "
                        "it was revoked, it expired, or it is mistyped.",
            challenges=CHALLENGES)
    req.context.user = user
    req.context.token = token


def require_admin(req, resp, resource, params):
    """Raise 403 unless the caller (already authenticated) is an admin."""
    if not req.context.user.is_superuser:
        raise falcon.HTTPForbidden(title="Permission Denied", description="Admin required.")
