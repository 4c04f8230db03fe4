"""Falcon hooks that guard responders: ``@falcon.before(require_token)``."""

import falcon

from makechat.auth import user_for_token


def require_token(req, resp, resource, params):
    """Put the caller on req.context.user, or raise 401."""
    secret = req.get_header("X-Auth-Token")
    user, token = user_for_token(secret) if secret else (None, None)
    if user is None:
        raise falcon.HTTPUnauthorized(
            title="Not authenticated",
            description="Please provide an auth token or login.",
            challenges=['Token header="X-Auth-Token"'])
    req.context.user = user
    req.context.token = token


def require_admin(req, resp, resource, params):
    """Raise 403 unless the caller (already authenticated) is an admin."""
    if not req.context.user.is_superuser:
        raise falcon.HTTPForbidden(title="Permission Denied", description="Admin required.")
