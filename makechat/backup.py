"""Backup archives in mongodump's layout, and restoring them.

An archive is ``makechat-YYYYmmdd-HHMMSS.tar.gz`` holding, for every
collection, ``<db>/<collection>.bson`` (the documents, BSON concatenated) and
``<db>/<collection>.metadata.json`` (its indexes, in mongodump's extended
JSON), so ``tar xzf`` then stock ``mongorestore --dir .`` restores it too.

Documents are copied as raw BSON bytes both ways, so nothing is converted:
ids, dates, int32/int64 counters, unicode and hashes come back byte for byte.
"""

import os
import re
import tarfile
import tempfile
import uuid
import zlib
from functools import partial
from datetime import datetime, timezone
from pathlib import Path

import bson
from bson import json_util
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import IndexModel, ReplaceOne
from pymongo.errors import BulkWriteError, PyMongoError

ARCHIVE_PREFIX = "makechat-"
ARCHIVE_SUFFIX = ".tar.gz"
ARCHIVE_NAME = re.compile(r"^makechat-\d{8}-\d{6}(-\d+)?\.tar\.gz$")
MEMBER_NAME = re.compile(
    r"^(?P<db>[A-Za-z0-9_\-]{1,64})/(?P<collection>[A-Za-z0-9_\-][A-Za-z0-9_.\-]{0,119})"
    r"\.(?P<kind>bson|metadata\.json)$")
#: Largest BSON document MongoDB stores (16 MiB) plus the headroom mongodump allows.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024 + 16 * 1024
MAX_METADATA_BYTES = 1024 * 1024
BATCH = 500
# NOTE: FerretDB v1.24 never answers an update command carrying more than
# 100 statements, so restore upserts at most 100 documents per command.
RESTORE_BATCH = 100
DUPLICATE_KEY = 11000
RAW = CodecOptions(document_class=RawBSONDocument)

#: Collections dumped last, in this order. Counters live in rooms (last_seq,
#: committed_seq); dumping them after messages means every message in the
#: archive has a seq at or below its room's counter, so a restored room never
#: hands out a seq that a restored message already holds. Users go last so
#: that every token, member and message in the archive finds its user.
DUMP_LAST = ("rooms", "users")

#: Index options mongodump writes that are not options to create_index.
NOT_INDEX_OPTIONS = ("v", "key", "ns")


class BackupError(Exception):
    """The archive cannot be written, read or restored; str() says why."""


def archive_name(now):
    return f"{ARCHIVE_PREFIX}{now.strftime('%Y%m%d-%H%M%S')}{ARCHIVE_SUFFIX}"


def dump_order(names):
    """Return the collection names in dump order: all others sorted, then DUMP_LAST."""
    others = sorted(name for name in names if name not in DUMP_LAST)
    return others + [name for name in DUMP_LAST if name in names]


def collection_names(db):
    return [name for name in db.list_collection_names() if not name.startswith("system.")]


def index_specs(collection):
    """Return the collection's indexes as mongodump writes them (no 'ns')."""
    specs = []
    for index in collection.list_indexes():
        spec = {key: value for key, value in index.items() if key != "ns"}
        specs.append(spec)
    return specs


def collection_infos(db):
    """Return listCollections' answer for each collection of ``db``, by name."""
    return {info["name"]: info for info in db.list_collections()}


def uuid_text(info):
    """Return the collection's UUID as mongodump writes it (32 hex digits),
    or None if the server reports none."""
    value = (info or {}).get("info", {}).get("uuid")
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, bytes) and len(value) == 16:  # bson.Binary, subtype 3 or 4
        return bytes(value).hex()
    return None


def metadata_json(collection, info=None):
    """Return the text of ``<collection>.metadata.json`` in mongodump's shape.
    ``info`` is the collection's listCollections entry: its UUID and options
    are written as mongodump writes them (no "uuid" if the server has none)."""
    metadata = {
        "indexes": index_specs(collection),
        "collectionName": collection.name,
        "type": "collection",
        "options": (info or {}).get("options", {}),
    }
    uuid_hex = uuid_text(info)
    if uuid_hex:
        metadata = {"indexes": metadata.pop("indexes"), "uuid": uuid_hex, **metadata}
    return json_util.dumps(metadata, json_options=json_util.CANONICAL_JSON_OPTIONS)


def _add_file(tar, name, fileobj, size, mtime):
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = mtime
    info.mode = 0o600
    fileobj.seek(0)
    tar.addfile(info, fileobj)


def _unused_path(directory, now):
    """Return the archive path for now, with -2, -3... if one already exists."""
    path = directory / archive_name(now)
    counter = 2
    while path.exists():
        path = directory / archive_name(now).replace(ARCHIVE_SUFFIX, f"-{counter}{ARCHIVE_SUFFIX}")
        counter += 1
    return path


def write_backup(db, directory, now=None, progress=None):
    """Write one archive of every collection of ``db`` into ``directory`` and
    return its path. ``progress(collection, documents_so_far)`` is called as
    documents are copied. The archive appears under its final name only when
    complete: it is written to a hidden temporary file and renamed."""
    directory = Path(directory).expanduser()
    now = now or datetime.now(timezone.utc)
    mtime = int(now.timestamp())
    try:
        # SECURITY: archives hold password hashes and token digests.
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, partial_path = tempfile.mkstemp(prefix=".makechat-", suffix=".partial",
                                                dir=directory)
    except OSError as error:
        raise BackupError(f"cannot write into {directory}: {error.strerror or error}") from None
    partial_path = Path(partial_path)
    try:
        with os.fdopen(handle, "wb") as raw_file:
            with tarfile.open(fileobj=raw_file, mode="w:gz") as tar:
                infos = collection_infos(db)
                for name in dump_order(collection_names(db)):
                    collection = db[name]
                    with tempfile.TemporaryFile(dir=directory) as documents:
                        count = 0
                        # PERF: raw BSON straight from the server, never decoded.
                        cursor = collection.with_options(codec_options=RAW).find(
                            {}, batch_size=BATCH)
                        for document in cursor:
                            documents.write(document.raw)
                            count += 1
                            if progress and count % BATCH == 0:
                                progress(name, count)
                        if progress:
                            progress(name, count)
                        _add_file(tar, f"{db.name}/{name}.bson", documents,
                                  documents.tell(), mtime)
                    text = metadata_json(collection, infos.get(name)).encode("utf-8")
                    with tempfile.SpooledTemporaryFile() as metadata:
                        metadata.write(text)
                        _add_file(tar, f"{db.name}/{name}.metadata.json", metadata,
                                  len(text), mtime)
            raw_file.flush()
            os.fsync(raw_file.fileno())
        final = _unused_path(directory, now)
        os.replace(partial_path, final)
    except BaseException:
        partial_path.unlink(missing_ok=True)
        raise
    return final


def list_archives(directory):
    """Return the archives in ``directory``, oldest first (by name: the time)."""
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        return []
    return sorted((path for path in directory.iterdir()
                   if ARCHIVE_NAME.match(path.name) and path.is_file()),
                  key=lambda path: _sort_key(path.name))


def _sort_key(name):
    """'makechat-20260101-120000-2.tar.gz' -> ('20260101', '120000', 2)."""
    parts = name[len(ARCHIVE_PREFIX):-len(ARCHIVE_SUFFIX)].split("-")
    return (parts[0], parts[1], int(parts[2]) if len(parts) > 2 else 1)


def prune_archives(directory, keep):
    """Delete all but the newest ``keep`` archives; return the deleted paths.
    Only files named like our archives are touched."""
    if keep < 1:
        raise BackupError("--keep must be at least 1")
    archives = list_archives(directory)
    doomed = archives[:-keep]
    for path in doomed:
        path.unlink()
    return doomed


# -- reading and restoring ---------------------------------------------------

class _Collection:
    def __init__(self, name):
        self.name = name
        self.bson_member = None
        self.metadata = None
        self.count = 0


def _iter_bson(stream, where):
    """Yield each document of a stream of concatenated BSON as raw bytes,
    raising BackupError on a short, oversized or malformed document."""
    while True:
        head = stream.read(4)
        if not head:
            return
        if len(head) < 4:
            raise BackupError(f"{where}: truncated document")
        size = int.from_bytes(head, "little", signed=True)
        if size < 5 or size > MAX_DOCUMENT_BYTES:
            raise BackupError(f"{where}: invalid document length {size}")
        rest = stream.read(size - 4)
        if len(rest) < size - 4:
            raise BackupError(f"{where}: truncated document")
        yield head + rest


def _validate_document(raw, where):
    try:
        document = bson.decode(raw)
    except Exception as error:  # bson raises several types for bad input
        raise BackupError(f"{where}: malformed BSON document ({error})") from None
    if "_id" not in document:
        raise BackupError(f"{where}: a document has no _id")


def _parse_metadata(text, name, where):
    try:
        metadata = json_util.loads(text)
    except (ValueError, TypeError) as error:
        raise BackupError(f"{where}: not valid extended JSON ({error})") from None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("indexes", []), list):
        raise BackupError(f"{where}: not a mongodump metadata file")
    if metadata.get("collectionName", name) != name:
        raise BackupError(f"{where}: names collection {metadata.get('collectionName')!r}")
    for index in metadata.get("indexes", []):
        if not isinstance(index, dict) or not isinstance(index.get("key"), dict) \
                or not index["key"] or not isinstance(index.get("name"), str):
            raise BackupError(f"{where}: an index has no key or name")
    return metadata


def _open(path):
    try:
        return tarfile.open(path, mode="r:gz")
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise BackupError(f"{path}: not a readable .tar.gz archive ({error})") from None


def read_archive(path):
    """Check the whole archive and return its collections by name, without
    touching any database. Raise BackupError for anything that is not a
    complete archive in mongodump's layout: a corrupt or truncated file, a
    member outside ``<db>/<collection>.{bson,metadata.json}`` (absolute paths,
    ``..``, links, devices), a malformed document or metadata."""
    path = Path(path)
    collections = {}
    databases = set()
    try:
        with _open(path) as tar:
            for member in tar:
                name = member.name
                if member.isdir() and re.fullmatch(r"(\./)?[A-Za-z0-9_\-]{1,64}/?", name):
                    continue
                match = MEMBER_NAME.match(name)
                if not member.isfile() or match is None:
                    raise BackupError(f"{path}: unexpected member {name!r}; not a makechat "
                                      "backup (expected <db>/<collection>.bson and "
                                      ".metadata.json files only)")
                if match["collection"].startswith("system."):
                    raise BackupError(f"{path}: refuses to restore system collection "
                                      f"{match['collection']!r}")
                databases.add(match["db"])
                collection = collections.setdefault(match["collection"],
                                                    _Collection(match["collection"]))
                stream = tar.extractfile(member)
                where = f"{path}: {name}"
                if match["kind"] == "bson":
                    if collection.bson_member is not None:
                        raise BackupError(f"{where}: appears twice")
                    collection.bson_member = name
                    for raw in _iter_bson(stream, where):
                        _validate_document(raw, where)
                        collection.count += 1
                else:
                    if collection.metadata is not None:
                        raise BackupError(f"{where}: appears twice")
                    if member.size > MAX_METADATA_BYTES:
                        raise BackupError(f"{where}: metadata too large")
                    collection.metadata = _parse_metadata(stream.read(), collection.name, where)
            # A tar cut at a member boundary reads as a shorter, valid-looking
            # archive; every complete tar ends with two zero blocks.
            tar.fileobj.seek(tar.offset)
            if tar.fileobj.read(2 * tarfile.BLOCKSIZE) != bytes(2 * tarfile.BLOCKSIZE):
                raise BackupError(f"{path}: truncated archive (no end-of-archive marker)")
            # Read to the end so gzip checks its CRC: damage inside a string
            # can decompress to valid-looking BSON.
            while tar.fileobj.read(1 << 20):
                pass
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise BackupError(f"{path}: corrupt or truncated archive ({error})") from None
    if not collections:
        raise BackupError(f"{path}: holds no collections; not a makechat backup")
    if len(databases) > 1:
        raise BackupError(f"{path}: holds several databases ({', '.join(sorted(databases))})")
    for collection in collections.values():
        if collection.bson_member is None or collection.metadata is None:
            raise BackupError(f"{path}: collection {collection.name!r} lacks its "
                              ".bson or .metadata.json file")
    return collections


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


def restore_backup(db, path, drop=False, progress=None):
    """Restore an archive into ``db`` and return {collection: documents}.

    The whole archive is checked first (``read_archive``): a broken one
    raises BackupError before anything is written. Documents are upserted by
    _id (the archive's version wins); ``drop`` first drops each collection the
    archive holds. Indexes are then created from the metadata."""
    collections = read_archive(path)
    restored = {}
    try:
        with _open(path) as tar:
            for name in sorted(collections):
                collection = collections[name]
                target = db[name]
                if drop:
                    target.drop()
                stream = tar.extractfile(collection.bson_member)
                # After the drop every document is new: plain inserts, no lookups.
                write = target.insert_many if drop else partial(_upsert_batch, target)
                batch = []
                count = 0
                for raw in _iter_bson(stream, collection.bson_member):
                    batch.append(RawBSONDocument(raw))
                    if len(batch) == RESTORE_BATCH:
                        write(batch)
                        count += len(batch)
                        batch = []
                        if progress:
                            progress(name, count)
                if batch:
                    write(batch)
                    count += len(batch)
                if progress:
                    progress(name, count)
                # NOTE: one index per command: FerretDB v1.24 drops the
                # connection when one createIndexes names several existing indexes.
                for model in _index_models(collection.metadata):
                    target.create_indexes([model])
                restored[name] = count
    except PyMongoError as error:
        first_line = str(error).split("\n")[0][:300]
        raise BackupError(f"restore stopped in collection {name!r}: {first_line}"
                          + ("" if drop else " (restoring with --drop replaces the "
                             "collections instead of merging into them)")) from None
    return restored
