"""/api/openapi.json: the OpenAPI 3.1 document of this API, built from the app."""

from makechat.openapi import build_spec
from makechat.resources.operation import operation


class OpenAPIResource:
    """GET /api/openapi.json: the API contract, for clients and tools (no auth)."""

    #: Built from the code alone: no index creation, no database.
    uses_database = False

    def __init__(self, app):
        self.app = app
        self.spec = None

    @operation("This OpenAPI 3.1 document", auth="none", responses={200: "the document"},
               schemas={200: "OpenAPI"}, tag="meta")
    def on_get(self, req, resp):
        """Return the OpenAPI 3.1 document of every /api endpoint."""
        if self.spec is None:
            # NOTE: built on first use, when create_app has added every route.
            self.spec = build_spec(self.app)
        resp.media = self.spec
