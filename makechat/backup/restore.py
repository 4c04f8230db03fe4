"""Restoring a checked archive into a database: makechat's collections
only, documents upserted by _id (or inserted after a drop), then indexes."""

from functools import partial
from typing import Any

from bson.raw_bson import RawBSONDocument
from pymongo import IndexModel, ReplaceOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError, PyMongoError

from makechat.backup.common import BackupError, PathArg, Progress
from makechat.backup.read import Archive, read_archive

# NOTE: FerretDB v1.24 never answers an update command carrying more than
# 100 statements, so restore upserts at most 100 documents per command.
RESTORE_BATCH = 100
DUPLICATE_KEY = 11000
#: Index options mongodump writes that are not options to create_index.
NOT_INDEX_OPTIONS = ("v", "key", "ns")


def _index_models(metadata):
    models = []
    for index in metadata.get("indexes", []):
        if index["name"] == "_id_":
            continue
        options = {key: value for key, value in index.items() if key not in NOT_INDEX_OPTIONS}
        models.append(IndexModel(list(index["key"].items()), **options))
    return models


def _upsert_batch(collection, documents):
    """Upsert documents by _id: insert them all, then replace those whose _id
    was already there.

    PERF: an upsert that inserts runs at about 80 documents a second on
    FerretDB v1, an insert or a replace of an existing document is fast."""
    try:
        collection.insert_many(documents, ordered=False)
        return
    except BulkWriteError as error:
        failures = error.details.get("writeErrors", [])
        if not failures or any(failure.get("code") != DUPLICATE_KEY for failure in failures):
            raise
        existing = [documents[failure["index"]] for failure in failures]
    # A document colliding on another unique index fails here, with that index named.
    try:
        collection.bulk_write([ReplaceOne({"_id": document["_id"]}, document, upsert=True)
                               for document in existing], ordered=True)
    except KeyError:
        # NOTE: FerretDB v1 answers a failed update without 'nModified', which
        # pymongo's bulk API trips on; replaces are idempotent, so redo them
        # one by one to raise the real error.
        for document in existing:
            collection.replace_one({"_id": document["_id"]}, document, upsert=True)


def restore_backup(db: Database[Any], archive: Archive | PathArg, drop: bool = False,
                   progress: Progress | None = None) -> dict[str, int]:
    """Restore an archive (a path, or an Archive from ``read_archive``) into
    ``db`` and return {collection: documents}.

    A path is checked whole first (``read_archive``): a broken archive raises
    BackupError before anything is written. Only makechat's collections are
    written. Documents are upserted by _id (the archive's version wins);
    ``drop`` first drops each of makechat's collections the archive holds.
    Indexes are then created from the metadata."""
    if not isinstance(archive, Archive):
        archive = read_archive(archive)
    names = list(archive.collections)
    restored = dict.fromkeys(names, 0)
    batches: dict[str, list[RawBSONDocument]] = {name: [] for name in names}
    name = names[0]

    def flush(name):
        if batches[name]:
            write[name](batches[name])
            restored[name] += len(batches[name])
            batches[name] = []
            if progress:
                progress(name, restored[name])

    try:
        if drop:
            for name in names:
                db[name].drop()
        # After the drop every document is new: plain inserts, no lookups.
        write = {name: db[name].insert_many if drop else partial(_upsert_batch, db[name])
                 for name in names}
        for name, raw in archive.documents():
            batches[name].append(RawBSONDocument(raw))
            if len(batches[name]) == RESTORE_BATCH:
                flush(name)
        for name in names:
            flush(name)
            if progress:
                progress(name, restored[name])
            # NOTE: one index per command: FerretDB v1.24 drops the
            # connection when one createIndexes names several existing indexes.
            for model in _index_models(archive.collections[name].metadata):
                db[name].create_indexes([model])
        # An empty collection with no index but _id's is made by nothing
        # above: make it, as mongorestore does, so --drop gives back every one.
        existing = set(db.list_collection_names())
        for name in names:
            if name not in existing:
                db.create_collection(name)
    except PyMongoError as error:
        first_line = str(error).split("\n")[0][:300]
        raise BackupError(f"restore stopped in collection {name!r}: {first_line}"
                          + ("" if drop else " (restoring with --drop replaces the "
                             "collections instead of merging into them)")) from None
    return restored
