"""Database connection and index management."""

import logging
import threading

import mongoengine
import pymongo.errors
from pymongo.uri_parser import parse_uri

from makechat.models import ALL_DOCUMENTS

log = logging.getLogger(__name__)

#: Errors that mean "the database did not answer", turned into 503.
UNAVAILABLE_ERRORS = (
    pymongo.errors.ConnectionFailure,      # AutoReconnect, NetworkTimeout, ...
    pymongo.errors.ServerSelectionTimeoutError,
    pymongo.errors.ExecutionTimeout,
    pymongo.errors.WaitQueueTimeoutError,
)


def database_name(uri):
    """Return the database named in a MongoDB URI, 'makechat' if none."""
    return parse_uri(uri).get("database") or "makechat"


def connect(config, alias="default"):
    """Connect mongoengine lazily: no network traffic until the first query."""
    timeout_ms = int(config.db_timeout * 1000)
    mongoengine.disconnect(alias=alias)
    return mongoengine.connect(
        db=database_name(config.mongo_uri),
        host=config.mongo_uri,
        alias=alias,
        tz_aware=True,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        # NOTE: reads and writes get db_timeout plus headroom; waiting for
        # messages never holds a socket (it polls), so this stays short.
        socketTimeoutMS=timeout_ms * 2,
        connect=False,
    )


def ensure_indexes():
    """Create every declared index (idempotent)."""
    for document in ALL_DOCUMENTS:
        document.ensure_indexes()


class IndexGate:
    """Ensure indexes once per process, retrying on later requests if the
    database was down when the process started."""

    def __init__(self):
        self._done = False
        self._lock = threading.Lock()

    def ensure(self):
        if self._done:
            return
        with self._lock:
            if not self._done:
                ensure_indexes()
                self._done = True


def is_duplicate_key(error):
    """True if a write failed on a unique index.

    MongoDB says E11000 (DuplicateKeyError / NotUniqueError); FerretDB v1 says
    so on insert, but on update reports SQLite's "UNIQUE constraint failed"
    as an InternalError, so both are recognised."""
    if isinstance(error, (pymongo.errors.DuplicateKeyError, mongoengine.NotUniqueError)):
        return True
    text = str(error)
    return "E11000" in text or "UNIQUE constraint failed" in text
