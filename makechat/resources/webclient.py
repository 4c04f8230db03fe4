"""The browser client's pages (/, /admin, and the same under /makechat/ so URLs
match the nginx deployment). Assets are falcon static routes added next to
these in create_app; nothing here ever answers under /api."""

from pathlib import Path

import falcon

BUNDLED_WEB_ROOT = Path(__file__).resolve().parent.parent / "web"

# SECURITY: the client inserts every user-supplied text as text; this policy is
# the second wall: no inline script, no third-party origin, no framing.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))


def web_root(config):
    """Return the folder holding the client: config.web_root, else the bundled copy."""
    return Path(config.web_root).expanduser() if config.web_root else BUNDLED_WEB_ROOT


class PageResource:
    """GET one HTML page of the client, with headers that keep it from being
    framed, sniffed or cached stale."""

    uses_database = False

    def __init__(self, path):
        self.path = Path(path)

    def on_get(self, req, resp):
        try:
            html = self.path.read_bytes()
        except OSError:
            raise falcon.HTTPNotFound(title="Not found",
                                      description="The web client is not installed here.") \
                from None
        resp.content_type = falcon.MEDIA_HTML
        resp.data = html
        resp.cache_control = ["no-cache"]
        resp.set_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("Referrer-Policy", "no-referrer")

    on_head = on_get
