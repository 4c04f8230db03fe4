"""What writing, reading and restoring archives share: the error they
raise, the limits of what they read, and how a file is read."""

import os
import tarfile
import zlib
from collections.abc import Callable
from typing import Any, NamedTuple

#: ``progress(collection, documents_so_far)``, called as documents are copied.
Progress = Callable[[str, int], None]
#: A file or folder, as the CLI passes it.
PathArg = str | os.PathLike[str]
#: Largest BSON document MongoDB stores (16 MiB) plus the headroom mongodump allows.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024 + 16 * 1024
#: What reading a damaged archive raises, from tarfile, gzip and zlib.
READ_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error)


class BackupError(Exception):
    """The archive cannot be written, read or restored; str() says why."""


class Entry(NamedTuple):
    """One thing found in an archive, in archive order. ``payload`` is the
    text of a metadata file, or an iterator of raw BSON documents."""

    kind: str  # "prelude", "metadata" or "documents"
    database: str | None  # None for a file beside the database folders
    collection: str
    where: str
    payload: Any


def read_stream(stream, size, where):
    """Read up to ``size`` bytes; a damaged file raises BackupError naming ``where``."""
    try:
        return stream.read(size)
    except READ_ERRORS as error:
        raise BackupError(f"{where}: corrupt or truncated ({error})") from None
