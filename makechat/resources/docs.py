"""/docs/: the HTML documentation, once built (``make docs``), so that a
local ``makechat serve`` (and so ``make run``) shows the pages whose curl and
httpie examples the API reference promises. Nothing here answers under /api."""

from pathlib import Path

import falcon
from falcon.routing import StaticRoute

#: Where ``make docs`` writes the site, in a source checkout.
CHECKOUT_DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "_build" / "html"

#: The URLs this serves: /docs, /docs/ and everything under it.
PREFIX = r"/docs(/|$)"


def docs_root(config):
    """Return the folder of the built docs: config.docs_root, else the checkout's."""
    return Path(config.docs_root).expanduser() if config.docs_root else CHECKOUT_DOCS


class DocsSink:
    """GET the built docs' files; / is index.html. The folder is looked at
    on each request, so docs built while the server runs are served."""

    uses_database = False

    def __init__(self, root):
        self.root = Path(root)

    def __call__(self, req, resp, **kwargs):
        if req.method not in ("GET", "HEAD"):
            raise falcon.HTTPMethodNotAllowed(["GET", "HEAD"])
        if not (self.root / "index.html").is_file():
            raise falcon.HTTPNotFound(
                title="Not found",
                description="The documentation is not built here: run `make docs` in the "
                            "source checkout, then reload.")
        if req.path == "/docs":  # "/docs/" too: trailing slashes are stripped
            # NOTE: the pages link relatively, so they must be read from /docs/.
            raise falcon.HTTPFound("/docs/index.html")
        StaticRoute("/docs/", str(self.root))(req, resp)
