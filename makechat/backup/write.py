"""Writing backup archives, and listing and pruning them in a folder.

Documents are copied as the server sends them, raw BSON, never decoded.
"""

import os
import re
import tarfile
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bson import json_util
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo.collection import Collection
from pymongo.database import Database

from makechat.backup.common import BackupError, PathArg, Progress

ARCHIVE_PREFIX = "makechat-"
ARCHIVE_SUFFIX = ".tar.gz"
ARCHIVE_NAME = re.compile(r"^makechat-\d{8}-\d{6}(-\d+)?\.tar\.gz$")
BATCH = 500
RAW = CodecOptions(document_class=RawBSONDocument)
#: Collections dumped last, in this order. Counters live in rooms (last_seq,
#: committed_seq); dumping them after messages means every message in the
#: archive has a seq at or below its room's counter, so a restored room never
#: hands out a seq that a restored message already holds. Users go last so
#: that every token, member and message in the archive finds its user.
DUMP_LAST = ("rooms", "users")


def archive_name(now: datetime) -> str:
    return f"{ARCHIVE_PREFIX}{now.strftime('%Y%m%d-%H%M%S')}{ARCHIVE_SUFFIX}"


def dump_order(names: Iterable[str]) -> list[str]:
    """Return the collection names in dump order: all others sorted, then DUMP_LAST."""
    others = sorted(name for name in names if name not in DUMP_LAST)
    return others + [name for name in DUMP_LAST if name in names]


def collection_names(db: Database[Any]) -> list[str]:
    return [name for name in db.list_collection_names() if not name.startswith("system.")]


def index_specs(collection: Collection[Any]) -> list[dict[str, Any]]:
    """Return the collection's indexes as mongodump writes them (no 'ns')."""
    specs = []
    for index in collection.list_indexes():
        spec = {key: value for key, value in index.items() if key != "ns"}
        specs.append(spec)
    return specs


def collection_infos(db: Database[Any]) -> dict[str, Mapping[str, Any]]:
    """Return listCollections' answer for each collection of ``db``, by name."""
    return {info["name"]: info for info in db.list_collections()}


def uuid_text(info: Mapping[str, Any] | None) -> str | None:
    """Return the collection's UUID as mongodump writes it (32 hex digits),
    or None if the server reports none."""
    value = (info or {}).get("info", {}).get("uuid")
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, bytes) and len(value) == 16:  # bson.Binary, subtype 3 or 4
        return bytes(value).hex()
    return None


def metadata_json(collection: Collection[Any], info: Mapping[str, Any] | None = None) -> str:
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


def write_backup(db: Database[Any], directory: PathArg, now: datetime | None = None,
                 progress: Progress | None = None) -> Path:
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
        handle, partial_name = tempfile.mkstemp(prefix=".makechat-", suffix=".partial",
                                                dir=directory)
    except OSError as error:
        raise BackupError(f"cannot write into {directory}: {error.strerror or error}") from None
    partial_path = Path(partial_name)
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


def list_archives(directory: PathArg) -> list[Path]:
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


def prune_archives(directory: PathArg, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` archives; return the deleted paths.
    Only files named like our archives are touched."""
    if keep < 1:
        raise BackupError("--keep must be at least 1")
    archives = list_archives(directory)
    doomed = archives[:-keep]
    for path in doomed:
        path.unlink()
    return doomed
