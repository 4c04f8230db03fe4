"""Database connection and index management."""

import itertools
import logging
import threading
from collections.abc import Callable
from typing import Any

import mongoengine
import pymongo.errors
from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.uri_parser import parse_uri

from makechat.config import Config
from makechat.models import ALL_DOCUMENTS

log = logging.getLogger(__name__)

#: Errors that mean "the database did not answer", turned into 503.
UNAVAILABLE_ERRORS = (
    pymongo.errors.ConnectionFailure,      # AutoReconnect, NetworkTimeout, ...
    pymongo.errors.ServerSelectionTimeoutError,
    pymongo.errors.ExecutionTimeout,
    pymongo.errors.WaitQueueTimeoutError,
)


def database_name(uri: str) -> str:
    """Return the database named in a MongoDB URI, 'makechat' if none."""
    return parse_uri(uri).get("database") or "makechat"


def connect(config: Config, alias: str = "default") -> MongoClient[Any]:
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


def ensure_indexes() -> None:
    """Bring stored documents up to the current schema, then create every
    declared index (both idempotent)."""
    migrate(mongoengine.get_db())
    for document in ALL_DOCUMENTS:
        document.ensure_indexes()


def migrate(database: Database[Any]) -> None:
    """Fill in what older versions did not store, so the unique indexes can
    be built: token slots, and look-alike-proof keys for room names and
    usernames. Each step only touches documents that need it."""
    from makechat.names import skeleton

    # login_failures (before 0.3) counted failed logins; "attempts" replaced
    # it and its entries expire within minutes anyway.
    if "login_failures" in database.list_collection_names():
        database.drop_collection("login_failures")
    _number_token_slots(database.tokens)
    # A direct conversation's key comes from its members (makechat.chat.dms).
    _rekey(database.rooms, "name", "name_key", skeleton, only={"is_dm": {"$ne": True}})
    _rekey(database.users, "username", "username_skeleton", skeleton)


def _number_token_slots(tokens: Collection[Any]) -> None:
    owners = {}
    for token in tokens.find({"slot": {"$exists": False}}, {"owner": 1}).sort("_id", 1):
        owner = token["owner"]
        if owner not in owners:
            used = {doc["slot"] for doc in tokens.find({"owner": owner, "slot": {"$exists": True}},
                                                       {"slot": 1})}
            owners[owner] = (slot for slot in itertools.count() if slot not in used)
        tokens.update_one({"_id": token["_id"]}, {"$set": {"slot": next(owners[owner])}})


def _rekey(collection: Collection[Any], field: str, key_field: str,
           make_key: Callable[[str], str], only: dict[str, Any] | None = None) -> None:
    """Set key_field = make_key(field) where it differs. A key that another
    document holds (two old names that now count as look-alikes) gets the
    document's id appended, with a warning, so old data never blocks the
    unique index; the older document keeps the plain key."""
    documents = list(collection.find(only or {}, {field: 1, key_field: 1}).sort("_id", 1))
    wanted = {document["_id"]: make_key(document.get(field, "")) for document in documents}
    holders: dict[str, Any] = {}
    for document in documents:
        holders.setdefault(wanted[document["_id"]], document["_id"])
    for document in documents:
        key = wanted[document["_id"]]
        if holders[key] != document["_id"]:
            log.warning("%s %s: %r looks like the %s of %s; keeping it distinct",
                        collection.name, document["_id"], document.get(field), field,
                        holders[key])
            key = f"{key}#{document['_id']}"
        if document.get(key_field) == key:
            continue
        try:
            collection.update_one({"_id": document["_id"]}, {"$set": {key_field: key}})
        except pymongo.errors.PyMongoError as error:
            if not is_duplicate_key(error):
                raise
            # Another document still holds this as its old key.
            collection.update_one({"_id": document["_id"]},
                                  {"$set": {key_field: f"{key}#{document['_id']}"}})


def warn_if_outgrown(database: Database[Any], threshold: int) -> int | None:
    """Log a warning if the database is FerretDB and its log (the messages
    collection) holds more than ``threshold`` documents: FerretDB v1 reads
    every query as a scan of the whole collection, so reading a room gets
    slower with every message of every room (docs/performance.rst). Return
    the count when it warned, else None."""
    try:
        info = database.client.admin.command("buildInfo")
        if "ferretdbVersion" not in info:
            return None
        count = database.messages.estimated_document_count()
    except pymongo.errors.PyMongoError:
        return None
    if count <= threshold:
        return None
    log.warning("the database is FerretDB %s and holds %d log entries (messages and "
                "events), more than embedded_max_messages = %d: FerretDB scans the whole "
                "collection for every read, so rooms get slower as it grows; move to "
                "MongoDB (see the installation and performance docs)",
                info["ferretdbVersion"], count, threshold)
    return count


def has_atomic_updates(database: Database[Any]) -> bool:
    """True for MongoDB, whose $inc and findAndModify are atomic; False for
    FerretDB v1, which applies them as a read then a write."""
    return "ferretdbVersion" not in database.client.admin.command("buildInfo")


class IndexGate:
    """Ensure indexes once per process, retrying on later requests if the
    database was down when the process started; then say if the embedded
    database is outgrown (see warn_if_outgrown), and tell ``on_server``
    whether the server's updates are atomic."""

    def __init__(self, outgrown_at: int | None = None,
                 on_server: Callable[[bool], None] | None = None) -> None:
        self._done = False
        self._lock = threading.Lock()
        self.outgrown_at = outgrown_at
        self.on_server = on_server

    def ensure(self) -> None:
        if self._done:
            return
        with self._lock:
            if not self._done:
                ensure_indexes()
                if self.on_server is not None:
                    self.on_server(has_atomic_updates(mongoengine.get_db()))
                self._done = True
                if self.outgrown_at is not None:
                    warn_if_outgrown(mongoengine.get_db(), self.outgrown_at)


def is_duplicate_key(error: BaseException) -> bool:
    """True if a write failed on a unique index.

    MongoDB says E11000 (DuplicateKeyError / NotUniqueError); FerretDB v1 says
    so on insert, but on update reports SQLite's "UNIQUE constraint failed"
    as an InternalError, so both are recognised."""
    if isinstance(error, (pymongo.errors.DuplicateKeyError, mongoengine.NotUniqueError)):
        return True
    text = str(error)
    return "E11000" in text or "UNIQUE constraint failed" in text
