"""Reading and checking an archive whole before anything is restored:
makechat's own, a mongodump folder packed with tar (``--gzip`` too, with
its ``prelude.json``), or a ``mongodump --archive`` file
(``makechat.backup.mongodump``)."""

import gzip
import json
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import bson
from bson import json_util

from makechat.backup.common import (
    MAX_DOCUMENT_BYTES,
    READ_ERRORS,
    BackupError,
    Entry,
    PathArg,
    read_stream,
)
from makechat.backup.mongodump import ARCHIVE_MAGIC, GZIP_MAGIC, archive_entries
from makechat.models import ALL_DOCUMENTS

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
MAX_METADATA_BYTES = 1024 * 1024


def makechat_collections() -> frozenset[str]:
    """Return the names of makechat's collections: the only ones restore writes."""
    return frozenset(document._get_collection_name() for document in ALL_DOCUMENTS)


class _Collection:
    def __init__(self, name):
        self.name = name
        self.metadata = None
        self.has_documents = False
        self.count = 0


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

    def entries(self, check: bool = True) -> Iterator[Entry]:
        if self.layout == "tar":
            return _tar_entries(self.path)
        return archive_entries(self.path, self.gzipped, check=check)

    def documents(self) -> Iterator[tuple[str, bytes]]:
        """Yield (collection, raw BSON document) for makechat's collections,
        in archive order, reading the file again (without the checksums
        read_archive verified)."""
        for entry in self.entries(check=False):
            if entry.kind == "documents" and entry.collection in self.collections:
                for raw in entry.payload:
                    yield entry.collection, raw


def _iter_bson(stream, where):
    """Yield each document of a stream of concatenated BSON as raw bytes,
    raising BackupError on a short, oversized or malformed document."""
    while True:
        head = read_stream(stream, 4, where)
        if not head:
            return
        if len(head) < 4:
            raise BackupError(f"{where}: truncated document")
        size = int.from_bytes(head, "little", signed=True)
        if size < 5 or size > MAX_DOCUMENT_BYTES:
            raise BackupError(f"{where}: invalid document length {size}")
        rest = read_stream(stream, size - 4, where)
        if len(rest) < size - 4:
            raise BackupError(f"{where}: truncated document")
        yield head + rest


def _read_small(stream, where):
    text = read_stream(stream, MAX_METADATA_BYTES + 1, where)
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
    """Yield the Entry of each file of a .tar.gz in mongodump's layout.
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
                    yield Entry("prelude" if kind == "prelude" else "metadata", match["db"],
                                 collection, where, _read_small(stream, where))
                    continue
                documents = _iter_bson(stream, where)
                yield Entry("documents", match["db"], collection, where, documents)
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
