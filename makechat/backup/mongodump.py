"""Reading ``mongodump --archive`` files, gzipped or not.

The format of mongo-tools' common/archive (spec.md there): a magic number,
a header document, one document per collection (its metadata), a
terminator; then blocks of one namespace header and documents, each closed
by a terminator, a collection's documents possibly split into several
blocks interleaved with other collections'; each collection ends with a
block whose header says EOF and carries the CRC-64 of all its documents.
"""

import gzip

import bson

from makechat.backup.common import MAX_DOCUMENT_BYTES, BackupError, Entry, read_stream

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


def _archive_document(stream, where, head=None):
    """Read one BSON document of an archive, or None for a terminator."""
    head = head or read_stream(stream, 4, where)
    if head == TERMINATOR:
        return None
    if len(head) < 4:
        raise BackupError(f"{where}: truncated archive")
    size = int.from_bytes(head, "little", signed=True)
    if size < 5 or size > MAX_DOCUMENT_BYTES:
        raise BackupError(f"{where}: corrupt archive ({size} is neither a document length "
                          "nor a terminator)")
    rest = read_stream(stream, size - 4, where)
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


def archive_entries(path, gzipped, check=True):
    """Yield the Entry of each collection's metadata and each block of
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
    archive: yield a metadata Entry for each, and note its type in
    ``announced`` by (db, collection)."""
    if read_stream(stream, 4, where) != ARCHIVE_MAGIC:
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
            yield Entry("metadata", entry["db"] or None, entry["collection"],
                         f"{where}: metadata of {'.'.join(namespace)}",
                         entry["metadata"].encode("utf-8"))


def _archive_blocks(stream, where, check, opened, closed):
    """Yield a documents Entry for each block of an archive, to its end,
    checking each collection's CRC at its end block; ``opened`` and
    ``closed`` collect the (db, collection) pairs begun and ended."""
    crcs = {}
    while head := read_stream(stream, 4, where):
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
                yield Entry("documents", block["db"] or None, block["collection"], name,
                             iter(()))
            opened.discard(namespace)
            closed.add(namespace)
            continue
        opened.add(namespace)
        documents = _archive_segment(stream, f"{where}: {name}", check, crcs, namespace)
        yield Entry("documents", block["db"] or None, block["collection"],
                     f"{where}: {name}", documents)
        for _ in documents:  # whatever the reader left, to reach the next block
            pass
