"""GET /api/health: is this process up, and does the database answer?"""

import logging

import falcon
import mongoengine
import pymongo
from pymongo.errors import PyMongoError

from makechat import __version__
from makechat.resources.operation import operation

log = logging.getLogger(__name__)

#: Longest a health check waits for the database: load balancers and
#: Docker's HEALTHCHECK expect an answer in a few seconds.
PING_TIMEOUT = 2.0


def ping_database(timeout):
    """Return True if the database answers a ping within ``timeout`` seconds."""
    try:
        # NOTE: pymongo.timeout bounds server selection too, so a stopped
        # database costs at most ``timeout``, not the client's db_timeout.
        with pymongo.timeout(timeout):
            mongoengine.get_connection().admin.command("ping")
        return True
    except PyMongoError as error:
        log.warning("health check: database did not answer: %s",
                    str(error).split(", Timeout")[0][:200])
        return False


class HealthResource:
    """200 ``{"status": "ok", "database": "ok", "version"}``, or 503 with
    ``"status": "error"``, ``"database": "unavailable"`` plus the usual
    ``title``/``description``. No auth: it reveals only the version."""

    # The EnsureIndexes middleware skips resources that do not need indexes,
    # so a health check answers 503 quickly instead of failing on them.
    uses_database = False

    def __init__(self, config, ping=ping_database):
        self.timeout = min(PING_TIMEOUT, config.db_timeout)
        self.ping = ping

    @operation(
        "Is the service up and does its database answer? (no auth)", auth="none",
        responses={200: '`{"status": "ok", "database": "ok", "version"}`',
                   503: 'the database did not answer within 2 s: `{"status": "error", '
                        '"database": "unavailable", "version", "title", "description"}`'},
        schemas={200: "Health"}, tag="meta")
    def on_get(self, req, resp):
        if self.ping(self.timeout):
            resp.media = {"status": "ok", "database": "ok", "version": __version__}
            return
        resp.status = falcon.HTTP_503
        resp.retry_after = 5
        resp.media = {"status": "error", "database": "unavailable", "version": __version__,
                      "title": "Service unavailable",
                      "description": "The database did not answer within "
                                     f"{self.timeout:g} seconds; try again shortly."}
