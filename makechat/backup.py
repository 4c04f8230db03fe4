"""Backup archives in mongodump's layout, and restoring them.

An archive is ``makechat-YYYYmmdd-HHMMSS.tar.gz`` holding, for every
collection, ``<db>/<collection>.bson`` (the documents, BSON concatenated) and
``<db>/<collection>.metadata.json`` (its indexes, in mongodump's extended
JSON), so ``tar xzf`` then stock ``mongorestore --dir .`` restores it too.

Restore also reads what mongodump writes: such a folder (``--gzip`` too,
with its ``prelude.json``) packed with tar, and ``mongodump --archive``
files, gzipped or not. It restores only makechat's collections.

Documents are copied as raw BSON bytes both ways, so nothing is converted:
ids, dates, int32/int64 counters, unicode and hashes come back byte for byte.
"""

import gzip
import json
import os
import re
import tarfile
import tempfile
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import bson
from bson import json_util
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import IndexModel, ReplaceOne
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, PyMongoError

from makechat.models import ALL_DOCUMENTS

ARCHIVE_PREFIX = "makechat-"
ARCHIVE_SUFFIX = ".tar.gz"
ARCHIVE_NAME = re.compile(r"^makechat-\d{8}-\d{6}(-\d+)?\.tar\.gz$")
_DATABASE = r"[A-Za-z0-9_\-]{1,64}"
#: The files of a dump, as mongodump --out writes them (``.gz`` with --gzip),
#: optionally after ``./`` (``tar czf ARCHIVE -C DIR .``).
MEMBER_NAME = re.compile(
    rf"^(?:\./)?(?P<db>{_DATABASE})/(?P<collection>[A-Za-z0-9_\-][A-Za-z0-9_.\-]{{0,119}})"
    r"\.(?P<kind>bson|metadata\.json)(?P<gzip>\.gz)?$")
#: mongodump >= 100.12 writes prelude.json beside the database folders, or in
#: the database's folder when it dumps one database.
PRELUDE_NAME = re.compile(rf"^(?:\./)?(?:(?P<db>{_DATABASE})/)?prelude\.json(?P<gzip>\.gz)?$")
DIRECTORY_NAME = re.compile(rf"^(?:\.|(?:\./)?{_DATABASE})/?$")
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

#: ``progress(collection, documents_so_far)``, called as documents are copied.
Progress = Callable[[str, int], None]
#: A file or folder, as the CLI passes it.
PathArg = str | os.PathLike[str]


class BackupError(Exception):
    """The archive cannot be written, read or restored; str() says why."""


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


# -- reading and restoring ---------------------------------------------------

#: What reading a damaged archive raises, from tarfile, gzip and zlib.
READ_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error)


def makechat_collections() -> frozenset[str]:
    """Return the names of makechat's collections: the only ones restore writes."""
    return frozenset(document._get_collection_name() for document in ALL_DOCUMENTS)


class _Collection:
    def __init__(self, name):
        self.name = name
        self.metadata = None
        self.has_documents = False
        self.count = 0


class _Entry(NamedTuple):
    """One thing found in an archive, in archive order. ``payload`` is the
    text of a metadata file, or an iterator of raw BSON documents."""

    kind: str  # "prelude", "metadata" or "documents"
    database: str | None  # None for a file beside the database folders
    collection: str
    where: str
    payload: Any


class Archive:
    """A checked archive, as ``read_archive`` found it: ``collections`` are
    makechat's, by name; ``skipped`` names the others, which are never
    restored. ``layout`` is "tar" (makechat's, or a mongodump folder packed
    with tar) or "mongodump archive" (``mongodump --archive``)."""

    def __init__(self, path: Path, layout: str, gzipped: bool) -> None:
        self.path = path
        self.layout = layout
        self.gzipped = gzipped
        self.database: str | None = None
        self.collections: dict[str, _Collection] = {}
        self.skipped: list[str] = []

    def entries(self, check: bool = True) -> Iterator[_Entry]:
        if self.layout == "tar":
            return _tar_entries(self.path)
        return _archive_entries(self.path, self.gzipped, check=check)

    def documents(self) -> Iterator[tuple[str, bytes]]:
        """Yield (collection, raw BSON document) for makechat's collections,
        in archive order, reading the file again (without the checksums
        read_archive verified)."""
        for entry in self.entries(check=False):
            if entry.kind == "documents" and entry.collection in self.collections:
                for raw in entry.payload:
                    yield entry.collection, raw


def _read(stream, size, where):
    try:
        return stream.read(size)
    except READ_ERRORS as error:
        raise BackupError(f"{where}: corrupt or truncated ({error})") from None


def _iter_bson(stream, where):
    """Yield each document of a stream of concatenated BSON as raw bytes,
    raising BackupError on a short, oversized or malformed document."""
    while True:
        head = _read(stream, 4, where)
        if not head:
            return
        if len(head) < 4:
            raise BackupError(f"{where}: truncated document")
        size = int.from_bytes(head, "little", signed=True)
        if size < 5 or size > MAX_DOCUMENT_BYTES:
            raise BackupError(f"{where}: invalid document length {size}")
        rest = _read(stream, size - 4, where)
        if len(rest) < size - 4:
            raise BackupError(f"{where}: truncated document")
        yield head + rest


def _read_small(stream, where):
    text = _read(stream, MAX_METADATA_BYTES + 1, where)
    if len(text) > MAX_METADATA_BYTES:
        raise BackupError(f"{where}: metadata too large")
    return text


def _validate_document(raw, where):
    try:
        document = bson.decode(raw)
    except Exception as error:  # noqa: BLE001 - bson raises several types for bad input
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
    if metadata.get("type", "collection") != "collection":
        raise BackupError(f"{where}: {name!r} is a {metadata.get('type')}, not a collection")
    for index in metadata.get("indexes", []):
        if not isinstance(index, dict) or not isinstance(index.get("key"), dict) \
                or not index["key"] or not isinstance(index.get("name"), str):
            raise BackupError(f"{where}: an index has no key or name")
    return metadata


def _check_prelude(entry):
    """mongodump's prelude.json says which versions wrote the dump; nothing
    in it is needed, but it must be what it claims to be."""
    try:
        prelude = json.loads(entry.payload)
    except ValueError as error:
        raise BackupError(f"{entry.where}: not valid JSON ({error})") from None
    if not isinstance(prelude, dict):
        raise BackupError(f"{entry.where}: not a mongodump prelude")


def _open(path):
    try:
        return tarfile.open(path, mode="r:gz")
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except READ_ERRORS as error:
        raise BackupError(f"{path}: neither a readable .tar.gz archive nor a mongodump "
                          f"archive ({error})") from None


def _tar_entries(path):
    """Yield the _Entry of each file of a .tar.gz in mongodump's layout.
    Raise BackupError for anything else: a corrupt or truncated file, a
    member outside ``<db>/<collection>.{bson,metadata.json}[.gz]`` and
    ``prelude.json[.gz]`` (absolute paths, ``..``, links, devices), a file
    that appears twice."""
    seen = set()
    with _open(path) as tar:
        try:
            for member in tar:
                name = member.name
                if member.isdir() and DIRECTORY_NAME.match(name):
                    continue
                match = MEMBER_NAME.match(name) or PRELUDE_NAME.match(name)
                if match is not None and not member.isfile():
                    raise BackupError(f"{path}: member {name!r} is not a regular file "
                                      "(links and devices are refused)")
                if match is None:
                    raise BackupError(
                        f"{path}: unexpected member {name!r}; not a makechat backup or "
                        "mongodump folder (expected <db>/<collection>.bson and "
                        ".metadata.json files only, packed with tar czf ARCHIVE -C DIR .)")
                where = f"{path}: {name}"
                groups = match.groupdict()
                collection, kind = groups.get("collection"), groups.get("kind", "prelude")
                key = (match["db"], collection, kind)
                if key in seen:
                    raise BackupError(f"{where}: appears twice")
                seen.add(key)
                stream = tar.extractfile(member)
                if match["gzip"]:
                    stream = gzip.GzipFile(fileobj=stream, mode="rb")
                if kind != "bson":
                    yield _Entry("prelude" if kind == "prelude" else "metadata", match["db"],
                                 collection, where, _read_small(stream, where))
                    continue
                documents = _iter_bson(stream, where)
                yield _Entry("documents", match["db"], collection, where, documents)
                for _ in documents:  # whatever the reader left, to reach the next member
                    pass
            # A tar cut at a member boundary reads as a shorter, valid-looking
            # archive; every complete tar ends with two zero blocks.
            tar.fileobj.seek(tar.offset)
            if tar.fileobj.read(2 * tarfile.BLOCKSIZE) != bytes(2 * tarfile.BLOCKSIZE):
                raise BackupError(f"{path}: truncated archive (no end-of-archive marker)")
            # Read to the end so gzip checks its CRC: damage inside a string
            # can decompress to valid-looking BSON.
            while tar.fileobj.read(1 << 20):
                pass
        except READ_ERRORS as error:
            raise BackupError(f"{path}: corrupt or truncated archive ({error})") from None


# mongodump --archive: the format of mongo-tools' common/archive (spec.md
# there): a magic number, a header document, one document per collection
# (its metadata), a terminator; then blocks of one namespace header and
# documents, each closed by a terminator, a collection's documents possibly
# split into several blocks interleaved with other collections'; each
# collection ends with a block whose header says EOF and carries the CRC-64
# of all its documents.
ARCHIVE_MAGIC = (0x8199E26D).to_bytes(4, "little")
ARCHIVE_VERSION = "0.1"
TERMINATOR = b"\xff\xff\xff\xff"
GZIP_MAGIC = b"\x1f\x8b"


def _crc64_table(polynomial=0xC96C5795D7870F42):
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ polynomial if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC64_TABLE = _crc64_table()


def crc64(data: bytes, crc: int = 0) -> int:
    """Return the CRC-64 of ``data`` (continuing ``crc``) as Go's
    hash/crc64 computes it with the ECMA table (CRC-64/XZ), as mongodump
    writes it in an archive.

    PERF: about 12 MB a second in pure Python; it runs once, when the
    archive is checked."""
    crc ^= 0xFFFFFFFFFFFFFFFF
    table = _CRC64_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFFFFFFFFFF


def _as_int64(value):
    return value - (1 << 64) if value >= 1 << 63 else value


def _layout(path):
    """Return (layout, gzipped) of the file at ``path``, from its first bytes."""
    if path.is_dir():
        raise BackupError(f"{path}: is a folder; pack it first: tar czf dump.tar.gz -C {path} .")
    try:
        with open(path, "rb") as file:
            head = file.read(4)
        if head == ARCHIVE_MAGIC:
            return "mongodump archive", False
        if head[:2] == GZIP_MAGIC:
            try:
                with gzip.open(path, "rb") as file:
                    if file.read(4) == ARCHIVE_MAGIC:
                        return "mongodump archive", True
            except READ_ERRORS:
                pass  # reported as a damaged .tar.gz below
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except OSError as error:
        raise BackupError(f"{path}: cannot read ({error.strerror or error})") from None
    return "tar", True


def _archive_document(stream, where, head=None):
    """Read one BSON document of an archive, or None for a terminator."""
    head = head or _read(stream, 4, where)
    if head == TERMINATOR:
        return None
    if len(head) < 4:
        raise BackupError(f"{where}: truncated archive")
    size = int.from_bytes(head, "little", signed=True)
    if size < 5 or size > MAX_DOCUMENT_BYTES:
        raise BackupError(f"{where}: corrupt archive ({size} is neither a document length "
                          "nor a terminator)")
    rest = _read(stream, size - 4, where)
    if len(rest) < size - 4:
        raise BackupError(f"{where}: truncated archive")
    if rest[-1] != 0:
        raise BackupError(f"{where}: corrupt archive (a document does not end with a zero byte)")
    return head + rest


def _archive_header(raw, fields, where):
    """Decode a header document of an archive, checking its fields' types."""
    try:
        header = bson.decode(raw)
    except Exception as error:  # noqa: BLE001 - bson raises several types for bad input
        raise BackupError(f"{where}: corrupt archive header ({error})") from None
    for name, kind in fields.items():
        if not isinstance(header.get(name), kind):
            raise BackupError(f"{where}: corrupt archive header (no {name})")
    return header


def _archive_segment(stream, where, check, crcs, namespace):
    """Yield the documents of one block, up to its terminator."""
    while True:
        raw = _archive_document(stream, where)
        if raw is None:
            return
        if check:
            crcs[namespace] = crc64(raw, crcs.get(namespace, 0))
        yield raw


def _archive_entries(path, gzipped, check=True):
    """Yield the _Entry of each collection's metadata and each block of
    documents of a ``mongodump --archive`` file (gzipped or not). Raise
    BackupError for a damaged one: truncated, a wrong CRC, a block of a
    collection after its end or without a header, a collection left
    unfinished, anything after the last block."""
    where = str(path)
    announced, opened, closed = {}, set(), set()
    with (gzip.open if gzipped else open)(path, "rb") as stream:
        yield from _archive_metadata(stream, where, announced)
        yield from _archive_blocks(stream, where, check, opened, closed)
    unfinished = sorted(".".join(namespace) for namespace in opened) + sorted(
        ".".join(namespace) for namespace, kind in announced.items()
        if kind != "timeseries" and namespace not in closed | opened)
    if unfinished:
        raise BackupError(f"{where}: truncated archive ({', '.join(unfinished)} unfinished)")


def _archive_metadata(stream, where, announced):
    """Read the magic number, the header and the collections' metadata of an
    archive: yield a metadata _Entry for each, and note its type in
    ``announced`` by (db, collection)."""
    if _read(stream, 4, where) != ARCHIVE_MAGIC:
        raise BackupError(f"{where}: not a mongodump archive")
    raw = _archive_document(stream, where)
    if raw is None:
        raise BackupError(f"{where}: corrupt archive (no header)")
    header = _archive_header(raw, {"version": str}, where)
    if header["version"] != ARCHIVE_VERSION:
        raise BackupError(f"{where}: mongodump archive format {header['version']!r} is "
                          f"not supported (only {ARCHIVE_VERSION!r})")
    while (raw := _archive_document(stream, where)) is not None:
        entry = _archive_header(raw, {"db": str, "collection": str}, where)
        namespace = (entry["db"], entry["collection"])
        if namespace in announced:
            raise BackupError(f"{where}: {'.'.join(namespace)} is announced twice")
        announced[namespace] = entry.get("type", "collection")
        if entry.get("metadata"):
            if not isinstance(entry["metadata"], str):
                raise BackupError(f"{where}: corrupt archive header (metadata)")
            yield _Entry("metadata", entry["db"] or None, entry["collection"],
                         f"{where}: metadata of {'.'.join(namespace)}",
                         entry["metadata"].encode("utf-8"))


def _archive_blocks(stream, where, check, opened, closed):
    """Yield a documents _Entry for each block of an archive, to its end,
    checking each collection's CRC at its end block; ``opened`` and
    ``closed`` collect the (db, collection) pairs begun and ended."""
    crcs = {}
    while head := _read(stream, 4, where):
        raw = _archive_document(stream, where, head)
        if raw is None:
            raise BackupError(f"{where}: corrupt archive (a block without a header)")
        block = _archive_header(raw, {"db": str, "collection": str, "EOF": bool}, where)
        namespace = (block["db"], block["collection"])
        name = ".".join(namespace)
        if namespace in closed:
            raise BackupError(f"{where}: corrupt archive ({name} continues after its end)")
        if block["EOF"]:
            if _archive_document(stream, where) is not None:
                raise BackupError(f"{where}: corrupt archive (documents in the end "
                                  f"block of {name})")
            if check and _as_int64(crcs.get(namespace, 0)) != block.get("CRC"):
                raise BackupError(f"{where}: {name}: CRC mismatch; the archive is damaged")
            if namespace not in opened:  # an empty collection may have no block
                yield _Entry("documents", block["db"] or None, block["collection"], name,
                             iter(()))
            opened.discard(namespace)
            closed.add(namespace)
            continue
        opened.add(namespace)
        documents = _archive_segment(stream, f"{where}: {name}", check, crcs, namespace)
        yield _Entry("documents", block["db"] or None, block["collection"],
                     f"{where}: {name}", documents)
        for _ in documents:  # whatever the reader left, to reach the next block
            pass


def read_archive(path: PathArg) -> Archive:
    """Check the whole archive and return it as an Archive, without touching
    any database. Only makechat's collections (``makechat_collections``) are
    taken; the others are listed in ``skipped``. Raise BackupError for a
    damaged or foreign archive: see ``_tar_entries``, and a malformed
    document or metadata file, several databases, none of makechat's
    collections."""
    path = Path(path)
    archive = Archive(path, *_layout(path))
    ours = makechat_collections()
    found: dict[str, _Collection] = {}
    for entry in archive.entries():
        if entry.database is None:
            pass
        elif archive.database is None:
            archive.database = entry.database
        elif entry.database != archive.database:
            raise BackupError(f"{path}: holds more than one database ({archive.database!r} and "
                              f"{entry.database!r}); makechat restores one: dump only its "
                              "database (mongodump --db NAME)")
        if entry.kind == "prelude":
            _check_prelude(entry)
            continue
        collection = found.setdefault(entry.collection, _Collection(entry.collection))
        mine = entry.collection in ours
        if entry.kind == "metadata":
            collection.metadata = _parse_metadata(entry.payload, collection.name, entry.where) \
                if mine else {}
            continue
        collection.has_documents = True
        for raw in entry.payload:
            if mine:
                _validate_document(raw, entry.where)
            collection.count += 1
    if not found:
        raise BackupError(f"{path}: holds no collections; not a makechat backup")
    archive.collections = {name: found[name] for name in sorted(found) if name in ours}
    archive.skipped = sorted(name for name in found if name not in ours)
    if not archive.collections:
        raise BackupError(f"{path}: holds none of makechat's collections "
                          f"({', '.join(sorted(ours))}), only {', '.join(archive.skipped)}")
    for collection in archive.collections.values():
        if not collection.has_documents or collection.metadata is None:
            raise BackupError(f"{path}: collection {collection.name!r} lacks its documents "
                              "(.bson) or its metadata (.metadata.json)")
    return archive


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
    except PyMongoError as error:
        first_line = str(error).split("\n")[0][:300]
        raise BackupError(f"restore stopped in collection {name!r}: {first_line}"
                          + ("" if drop else " (restoring with --drop replaces the "
                             "collections instead of merging into them)")) from None
    return restored
