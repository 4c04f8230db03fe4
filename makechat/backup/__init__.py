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

One module per step: ``write`` (writing, listing and pruning archives),
``read`` (checking an archive whole before anything is written),
``mongodump`` (the ``mongodump --archive`` format), ``restore``; ``common``
holds what they share. This package gives their public names.
"""

from makechat.backup.common import BackupError as BackupError
from makechat.backup.mongodump import ARCHIVE_MAGIC as ARCHIVE_MAGIC
from makechat.backup.mongodump import crc64 as crc64
from makechat.backup.read import Archive as Archive
from makechat.backup.read import makechat_collections as makechat_collections
from makechat.backup.read import read_archive as read_archive
from makechat.backup.restore import restore_backup as restore_backup
from makechat.backup.write import ARCHIVE_NAME as ARCHIVE_NAME
from makechat.backup.write import collection_names as collection_names
from makechat.backup.write import list_archives as list_archives
from makechat.backup.write import metadata_json as metadata_json
from makechat.backup.write import prune_archives as prune_archives
from makechat.backup.write import write_backup as write_backup
