"""Backup archives (mongodump's layout) and restoring them, on the real test database."""

import gzip
import io
import json
import os
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import bson
import pytest
from bson import Int64, ObjectId

from makechat import backup
from makechat.cli import Env, run
from tests.dumps import NOW, RAW, drop_all, index_names, populate, snapshot


@pytest.fixture
def env(config):
    environ = {"MAKECHAT_MONGO_URI": config.mongo_uri, "MAKECHAT_BCRYPT_ROUNDS": "4"}
    return Env(stdout=io.StringIO(), stderr=io.StringIO(), stdin=io.StringIO(), environ=environ)


@pytest.fixture
def populated(raw_db, make_user):
    return populate(raw_db, make_user)


def empty(db):
    for name in backup.collection_names(db):
        db[name].delete_many({})


def test_restore_after_backup_returns_every_document_byte_for_byte(populated, tmp_path):
    before = snapshot(populated)
    path = backup.write_backup(populated, tmp_path)
    empty(populated)
    backup.restore_backup(populated, path)
    assert snapshot(populated) == before
    assert len(before["messages"]) == 1200
    room = populated.rooms.find_one()
    assert room["last_seq"] == 2**40 + 3 and isinstance(room["last_seq"], Int64)
    assert room["created"] == NOW


def test_restore_after_backup_keeps_password_and_token_hashes(populated, tmp_path):
    users = {user["_id"]: user["password"] for user in populated.users.find()}
    digests = sorted(token["digest"] for token in populated.tokens.find())
    path = backup.write_backup(populated, tmp_path)
    empty(populated)
    backup.restore_backup(populated, path)
    assert {user["_id"]: user["password"] for user in populated.users.find()} == users
    assert all(hash_.startswith("$2") for hash_ in users.values())
    assert sorted(token["digest"] for token in populated.tokens.find()) == digests


def test_restore_with_drop_recreates_indexes(populated, tmp_path):
    before = index_names(populated)
    path = backup.write_backup(populated, tmp_path)
    backup.restore_backup(populated, path, drop=True)
    assert index_names(populated) == before
    unique = [index for index in populated.messages.list_indexes() if index.get("unique")]
    assert {tuple(index["key"]) for index in unique} >= {("room", "seq"), ("dedupe",)}


def test_restore_with_drop_gives_back_an_empty_collection(populated, tmp_path):
    if "server_keys" not in populated.list_collection_names():  # earlier tests may make it
        populated.create_collection("server_keys")
    populated.server_keys.delete_many({})  # no documents, no index but _id's
    path = backup.write_backup(populated, tmp_path)
    backup.restore_backup(populated, path, drop=True)
    assert "server_keys" in populated.list_collection_names()


def test_restore_with_drop_removes_documents_written_after_backup(populated, tmp_path):
    path = backup.write_backup(populated, tmp_path)
    before = snapshot(populated)
    populated.messages.insert_one({"room": ObjectId(), "seq": 1, "text": "later",
                                   "dedupe": "later"})
    backup.restore_backup(populated, path, drop=True)
    assert snapshot(populated) == before


def test_restore_without_drop_upserts_by_id(populated, tmp_path):
    path = backup.write_backup(populated, tmp_path)
    populated.rooms.update_one({}, {"$set": {"topic": "changed"}})
    later = populated.messages.insert_one({"room": ObjectId(), "seq": 1, "text": "later",
                                           "dedupe": "later"}).inserted_id
    backup.restore_backup(populated, path)
    assert populated.rooms.find_one()["topic"] == "日本語 topic"
    assert populated.messages.find_one({"_id": later})["text"] == "later"


def test_restore_without_drop_conflict_on_unique_index_fails_one_line(populated, tmp_path, env):
    path = backup.write_backup(populated, tmp_path)
    admin = populated.users.find_one({"username": "admin"})
    populated.users.delete_one({"_id": admin["_id"]})
    populated.users.insert_one(dict(admin, _id=ObjectId()))  # same username, new id
    assert run(["restore", str(path)], env) == 1
    # The line naming the database, then the one error line.
    lines = env.stderr.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("makechat: using database ")
    assert "users" in lines[1] and "--drop" in lines[1]


def test_archive_layout_matches_mongodump(populated, tmp_path):
    path = backup.write_backup(populated, tmp_path, now=NOW)
    assert path.name == "makechat-20261122-050512.tar.gz"
    with tarfile.open(path, "r:gz") as tar:
        names = tar.getnames()
        assert all(member.isfile() for member in tar.getmembers())
        collections = backup.collection_names(populated)
        assert sorted(names) == sorted(
            [f"{populated.name}/{name}.bson" for name in collections]
            + [f"{populated.name}/{name}.metadata.json" for name in collections])
        concatenated = tar.extractfile(f"{populated.name}/messages.bson").read()
        metadata = json.loads(tar.extractfile(f"{populated.name}/messages.metadata.json").read())
    # mongodump's .bson is BSON documents back to back, nothing else.
    documents = bson.decode_all(concatenated)
    assert len(documents) == 1200
    assert sorted(document["_id"] for document in documents) == sorted(
        document["_id"] for document in populated.messages.find())
    assert set(metadata) == {"indexes", "uuid", "collectionName", "type", "options"}
    assert metadata["collectionName"] == "messages" and metadata["type"] == "collection"
    by_name = {index["name"]: index for index in metadata["indexes"]}
    assert by_name["_id_"]["key"] == {"_id": {"$numberInt": "1"}}
    assert by_name["room_1_seq_1"]["unique"] is True


def test_backup_metadata_carries_collection_uuid(populated, tmp_path):
    path = backup.write_backup(populated, tmp_path)
    with tarfile.open(path, "r:gz") as tar:
        metadata = json.loads(tar.extractfile(f"{populated.name}/users.metadata.json").read())
    info = next(populated.list_collections(filter={"name": "users"}))
    assert len(metadata["uuid"]) == 32
    assert metadata["uuid"] == bytes(info["info"]["uuid"]).hex()


def test_metadata_without_uuid_omits_it(populated):
    metadata = json.loads(backup.metadata_json(populated.users, {"name": "users"}))
    assert "uuid" not in metadata and metadata["collectionName"] == "users"


def test_backup_dumps_rooms_after_messages(populated, tmp_path):
    """Counters are dumped after what they count, so restored counters are never behind."""
    path = backup.write_backup(populated, tmp_path)
    with tarfile.open(path, "r:gz") as tar:
        names = [name.split("/")[1] for name in tar.getnames()]
    assert names.index("messages.bson") < names.index("rooms.bson") < names.index("users.bson")


def test_backup_archive_is_private(populated, tmp_path):
    path = backup.write_backup(populated, tmp_path / "new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700


def test_backup_twice_in_one_second_keeps_both(populated, tmp_path):
    first = backup.write_backup(populated, tmp_path, now=NOW)
    second = backup.write_backup(populated, tmp_path, now=NOW)
    assert first != second and first.exists() and second.exists()
    assert second.name == "makechat-20261122-050512-2.tar.gz"


def test_backup_interrupted_leaves_no_file(populated, tmp_path):
    def fail(collection, count):
        if collection == "messages" and count >= 500:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        backup.write_backup(populated, tmp_path, progress=fail)
    assert list(tmp_path.iterdir()) == []


def test_prune_keeps_newest_and_ignores_other_files(tmp_path):
    for name in ("makechat-20260101-000000.tar.gz", "makechat-20260102-000000.tar.gz",
                 "makechat-20260102-000000-2.tar.gz", "makechat-20260103-000000.tar.gz",
                 "notes.txt", "makechat-latest.tar.gz"):
        (tmp_path / name).write_bytes(b"x")
    removed = backup.prune_archives(tmp_path, 2)
    assert sorted(path.name for path in removed) == ["makechat-20260101-000000.tar.gz",
                                                     "makechat-20260102-000000.tar.gz"]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "makechat-20260102-000000-2.tar.gz", "makechat-20260103-000000.tar.gz",
        "makechat-latest.tar.gz", "notes.txt"]


# -- broken archives ---------------------------------------------------------

def tar_gz(members):
    """Build a .tar.gz from (TarInfo or name, bytes) pairs."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, content in members:
            if isinstance(info, str):
                info = tarfile.TarInfo(info)
            info.size = len(content) if info.type == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(content) if info.type == tarfile.REGTYPE else None)
    return buffer.getvalue()


def collection_members(db_name="makechat", name="users", documents=None):
    """The two files of one collection, as mongodump writes them."""
    documents = [{"_id": ObjectId(), "username": "mallory"}] if documents is None else documents
    metadata = json.dumps({"indexes": [{"v": 2, "key": {"_id": 1}, "name": "_id_"}],
                           "collectionName": name, "type": "collection"}).encode()
    return [(f"{db_name}/{name}.bson", b"".join(bson.encode(doc) for doc in documents)),
            (f"{db_name}/{name}.metadata.json", metadata)]


def good_members(db_name="makechat"):
    return collection_members(db_name)


def gzipped(members):
    """The same files as mongodump --gzip writes them."""
    return [(f"{name}.gz", gzip.compress(content)) for name, content in members]


PRELUDE = json.dumps({"ServerVersion": "7.0.42", "ToolVersion": "100.18.0"}).encode()


TERMINATOR = b"\xff\xff\xff\xff"


def archive_block(name, documents, db="makechat"):
    """One block of an archive: a namespace header, documents, a terminator."""
    return (bson.encode({"db": db, "collection": name, "EOF": False, "CRC": Int64(0)})
            + b"".join(bson.encode(document) for document in documents) + TERMINATOR)


def mongodump_archive(blocks, compress=False, ends=True, after=b""):
    """A file in mongodump --archive's format (mongo-tools common/archive/spec.md)
    from blocks of (collection, [documents]) or (collection, [documents], db):
    a collection's documents may be split over several blocks, interleaved
    with others'. ``after`` is appended after the last end block."""
    blocks = [block if len(block) == 3 else (*block, "makechat") for block in blocks]
    namespaces = list(dict.fromkeys((db, name) for name, _, db in blocks))
    out = bytearray(backup.ARCHIVE_MAGIC)
    out += bson.encode({"concurrent_collections": 4, "version": "0.1",
                        "server_version": "7.0.42", "tool_version": "100.18.0"})
    for db, name in namespaces:
        metadata = json.dumps({"indexes": [{"v": 2, "key": {"_id": 1}, "name": "_id_"}],
                               "collectionName": name, "type": "collection"})
        out += bson.encode({"db": db, "collection": name, "metadata": metadata, "size": 0,
                            "type": "collection"})
    out += TERMINATOR
    crcs = dict.fromkeys(namespaces, 0)
    for name, documents, db in blocks:
        raws = b"".join(bson.encode(document) for document in documents)
        crcs[db, name] = backup.crc64(raws, crcs[db, name])
        out += archive_block(name, documents, db)
    for db, name in namespaces if ends else []:
        crc = crcs[db, name]
        crc = crc - (1 << 64) if crc >= 1 << 63 else crc
        out += bson.encode({"db": db, "collection": name, "EOF": True, "CRC": Int64(crc)})
        out += TERMINATOR
    out += after
    return gzip.compress(bytes(out)) if compress else bytes(out)


MALLORY = [{"_id": ObjectId(), "username": "mallory"}]


def symlink_member():
    info = tarfile.TarInfo("makechat/users.bson")
    info.type = tarfile.SYMTYPE
    info.linkname = "/etc/passwd"
    return info


BROKEN = {
    "not gzip": lambda valid: b"this is not an archive\n",
    "empty file": lambda valid: b"",
    "truncated": lambda valid: valid[:len(valid) // 2],
    "corrupt": lambda valid: valid[:200] + bytes(b ^ 0xFF for b in valid[200:260]) + valid[260:],
    "empty archive": lambda valid: tar_gz([]),
    "bad gzip checksum": lambda valid: valid[:-8] + bytes([valid[-8] ^ 0xFF]) + valid[-7:],
    "foreign file": lambda valid: tar_gz([("etc/passwd", b"root:x:0:0\n")]),
    "path traversal": lambda valid: tar_gz(good_members() + [("../evil.bson", b"")]),
    "absolute path": lambda valid: tar_gz(good_members() + [("/makechat/x.bson", b"")]),
    "symlink": lambda valid: tar_gz([(symlink_member(), b"")] + good_members()[1:]),
    "truncated bson": lambda valid: tar_gz([(good_members()[0][0], good_members()[0][1][:-3]),
                                            good_members()[1]]),
    "document without _id": lambda valid: tar_gz([("makechat/users.bson", bson.encode({"a": 1})),
                                                  good_members()[1]]),
    "bad metadata": lambda valid: tar_gz([good_members()[0], ("makechat/users.metadata.json",
                                                              b"{not json")]),
    "missing metadata": lambda valid: tar_gz(good_members()[:1]),
    "system collection": lambda valid: tar_gz([("makechat/system.users.bson", b""),
                                               ("makechat/system.users.metadata.json", b"{}")]),
    "corrupt gzip member": lambda valid: tar_gz(
        [(name, content[:20] + bytes(b ^ 0x55 for b in content[20:]))
         for name, content in gzipped(good_members())]),
    "truncated gzip member": lambda valid: tar_gz(
        [(name, content[:-6]) for name, content in gzipped(good_members())]),
    "same file twice, once gzipped": lambda valid: tar_gz(good_members()
                                                          + gzipped(good_members()[:1])),
    "bad prelude": lambda valid: tar_gz(good_members() + [("prelude.json", b"[not json")]),
    "archive truncated": lambda valid: mongodump_archive([("users", MALLORY)])[:-30],
    "archive cut after a block": lambda valid: mongodump_archive([("users", MALLORY)],
                                                                 ends=False),
    "archive damaged in a string": lambda valid: mongodump_archive(
        [("users", MALLORY)]).replace(b"mallory", b"mallorz"),
    "archive with data after its end": lambda valid: mongodump_archive(
        [("users", MALLORY)], after=archive_block("users", MALLORY)),
    "archive with junk after the end": lambda valid: mongodump_archive(
        [("users", MALLORY)], after=b"junk"),
    "gzipped archive truncated": lambda valid: mongodump_archive(
        [("users", MALLORY)], compress=True)[:-10],
    "archive of two databases": lambda valid: mongodump_archive(
        [("users", MALLORY), ("tokens", MALLORY, "other")]),
    "not an archive, not gzip": lambda valid: b"\x6d\xe2\x99",
    "archive of a foreign collection": lambda valid: mongodump_archive([("evilcoll", MALLORY)]),
    "foreign collection only": lambda valid: tar_gz(collection_members(name="evilcoll")),
    "two databases": lambda valid: tar_gz(good_members("makechat") + good_members("other")),
}


def state(db):
    """Everything a restore could change: collections, documents, indexes."""
    return sorted(db.list_collection_names()), snapshot(db), index_names(db)


@pytest.mark.parametrize("database", ["populated", "empty"])
@pytest.mark.parametrize("breakage", sorted(BROKEN))
def test_restore_broken_archive_fails_and_leaves_database_untouched(
        breakage, database, populated, tmp_path, env):
    valid = backup.write_backup(populated, tmp_path / "good").read_bytes()
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(BROKEN[breakage](valid))
    if database == "empty":
        drop_all(populated)
    else:
        # A broken archive that would restore *after* deleting documents must
        # not get that far: make the database differ from the archive first.
        populated.users.insert_one({"username": "written after the backup"})
    before = state(populated)
    status = run(["restore", str(broken), "--drop"], env)
    assert status == 1
    error = env.stderr.getvalue()
    errors = [line for line in error.splitlines() if not line.startswith("makechat: using ")]
    assert len(errors) == 1 and errors[0].startswith("makechat: error: ")
    assert "Traceback" not in error
    assert state(populated) == before
    assert (before[0] == []) == (database == "empty")


def test_read_archive_with_two_databases_names_them(tmp_path):
    path = tmp_path / "dump.tar.gz"
    path.write_bytes(tar_gz(good_members("makechat") + collection_members("other", "tokens")))
    with pytest.raises(backup.BackupError, match="more than one database.*'makechat'.*'other'"):
        backup.read_archive(path)


def test_read_archive_of_foreign_collections_only_is_refused(tmp_path):
    path = tmp_path / "dump.tar.gz"
    path.write_bytes(tar_gz(collection_members(name="evilcoll")))
    with pytest.raises(backup.BackupError, match="none of makechat's collections.*evilcoll"):
        backup.read_archive(path)


def test_restore_skips_collections_that_are_not_makechats(raw_db, config, tmp_path):
    path = tmp_path / "dump.tar.gz"
    path.write_bytes(tar_gz(good_members() + collection_members(name="evilcoll")
                            + collection_members(name="system.js")))
    archive = backup.read_archive(path)
    assert archive.skipped == ["evilcoll", "system.js"]
    assert backup.restore_backup(raw_db, archive) == {"users": 1}
    assert "evilcoll" not in raw_db.list_collection_names()


def test_restore_with_drop_leaves_foreign_collection_of_same_name(raw_db, config, tmp_path):
    raw_db.evilcoll.insert_one({"mine": True})
    path = tmp_path / "dump.tar.gz"
    path.write_bytes(tar_gz(good_members() + collection_members(
        name="evilcoll", documents=[{"_id": 1, "theirs": True}])))
    backup.restore_backup(raw_db, path, drop=True)
    assert [doc["mine"] for doc in raw_db.evilcoll.find()] == [True]


def test_makechat_collections_include_every_model():
    assert backup.makechat_collections() >= {"users", "tokens", "attempts", "login_addresses",
                                             "rooms", "members", "messages"}


def test_read_archive_cut_between_members_is_refused(populated, tmp_path):
    """A tar cut where a member starts (users dropped whole) reads as a valid,
    shorter archive unless the end-of-archive marker is required."""
    path = backup.write_backup(populated, tmp_path)
    with tarfile.open(path, "r:gz") as tar:
        cut = tar.getmember(f"{populated.name}/users.bson").offset
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:cut]))
    with pytest.raises(backup.BackupError):
        backup.read_archive(path)


def test_restore_accepts_archive_with_directory_entries(populated, tmp_path):
    """`tar czf x.tar.gz makechat/` of a mongodump folder adds directory entries."""
    info = tarfile.TarInfo("makechat")
    info.type = tarfile.DIRTYPE
    path = tmp_path / "dump.tar.gz"
    path.write_bytes(tar_gz([(info, b"")] + good_members()))
    assert backup.restore_backup(populated, path) == {"users": 1}


@pytest.mark.parametrize("prelude", ["prelude.json", "makechat/prelude.json",
                                     "./prelude.json.gz"])
def test_restore_accepts_mongodump_prelude(raw_db, config, tmp_path, prelude):
    content = gzip.compress(PRELUDE) if prelude.endswith(".gz") else PRELUDE
    path = tmp_path / "dump.tar.gz"
    path.write_bytes(tar_gz(good_members() + [(prelude, content)]))
    assert backup.restore_backup(raw_db, path) == {"users": 1}


def test_restore_accepts_archive_packed_from_inside_the_folder(raw_db, config, tmp_path):
    """`tar czf x.tar.gz -C dump .`: members start with ./, the first is '.'."""
    dump = tmp_path / "dump"
    for name, content in good_members() + [("prelude.json", PRELUDE)]:
        (dump / name).parent.mkdir(parents=True, exist_ok=True)
        (dump / name).write_bytes(content)
    path = tmp_path / "dump.tar.gz"
    subprocess.run(["tar", "czf", str(path), "-C", str(dump), "."], check=True)
    with tarfile.open(path) as tar:
        assert tar.getnames()[0] == "." and "./makechat/users.bson" in tar.getnames()
    assert backup.restore_backup(raw_db, path) == {"users": 1}


def test_restore_accepts_gzip_layout(raw_db, config, tmp_path):
    """mongodump --gzip --out: <coll>.bson.gz and <coll>.metadata.json.gz."""
    document = {"_id": ObjectId(), "username": "gzipped", "n": Int64(2**40)}
    path = tmp_path / "dump.tar.gz"
    path.write_bytes(tar_gz(gzipped(collection_members(documents=[document]))))
    assert backup.restore_backup(raw_db, path) == {"users": 1}
    stored = raw_db.users.with_options(codec_options=RAW).find_one({"_id": document["_id"]})
    assert stored.raw == bson.encode(document)


def test_restore_command_of_a_folder_says_how_to_pack_it(config, tmp_path, env):
    assert run(["restore", str(tmp_path)], env) == 1
    error = env.stderr.getvalue()
    assert error.count("\n") == 1 and f"tar czf dump.tar.gz -C {tmp_path} ." in error


def test_crc64_matches_the_published_check_value():
    """CRC-64/XZ (Go's crc64.ECMA) of "123456789", from the CRC catalogue."""
    assert backup.crc64(b"123456789") == 0x995DC9BBDF1939FA
    assert backup.crc64(b"56789", backup.crc64(b"1234")) == 0x995DC9BBDF1939FA


@pytest.mark.parametrize("compress", [False, True], ids=["archive", "gzipped archive"])
def test_restore_reads_mongodump_archive(raw_db, config, tmp_path, compress):
    users = [{"_id": ObjectId(), "username": f"u{n}", "n": Int64(n)} for n in range(250)]
    path = tmp_path / "makechat.archive"
    path.write_bytes(mongodump_archive([("users", users), ("evilcoll", MALLORY)],
                                       compress=compress))
    archive = backup.read_archive(path)
    assert (archive.layout, archive.gzipped, archive.skipped) == (
        "mongodump archive", compress, ["evilcoll"])
    assert backup.restore_backup(raw_db, archive) == {"users": 250}
    stored = {doc["_id"]: doc.raw for doc in raw_db.users.with_options(codec_options=RAW).find()}
    assert stored == {user["_id"]: bson.encode(user) for user in users}


def test_restore_reads_interleaved_archive_blocks(raw_db, config, tmp_path):
    """mongodump dumps collections in parallel: their blocks interleave."""
    users = [{"_id": ObjectId(), "username": f"u{n}"} for n in range(30)]
    rooms = [{"_id": ObjectId(), "name": f"r{n}"} for n in range(30)]
    path = tmp_path / "makechat.archive"
    path.write_bytes(mongodump_archive([("users", users[:10]), ("rooms", rooms[:20]),
                                        ("users", users[10:]), ("rooms", rooms[20:])]))
    assert backup.restore_backup(raw_db, path) == {"rooms": 30, "users": 30}
    assert sorted(doc["username"] for doc in raw_db.users.find()) == sorted(
        user["username"] for user in users)


def test_restore_reads_archive_with_an_empty_collection(raw_db, config, tmp_path):
    path = tmp_path / "makechat.archive"
    path.write_bytes(mongodump_archive([("users", MALLORY), ("tokens", [])]))
    assert backup.restore_backup(raw_db, path) == {"tokens": 0, "users": 1}


# -- the command line --------------------------------------------------------

def test_backup_command_prints_archive_path(populated, tmp_path, env):
    assert run(["backup", "-o", str(tmp_path)], env) == 0
    printed = env.stdout.getvalue().strip()
    assert os.path.dirname(printed) == str(tmp_path)
    assert backup.ARCHIVE_NAME.match(os.path.basename(printed))
    # Only the database it read; no progress when stderr is not a terminal.
    assert env.stderr.getvalue().startswith("makechat: using database makechat_test at ")
    assert env.stderr.getvalue().count("\n") == 1


def test_backup_command_uses_config_backup_dir(populated, tmp_path, env):
    env.environ["MAKECHAT_BACKUP_DIR"] = str(tmp_path / "from-config")
    assert run(["backup"], env) == 0
    assert len(backup.list_archives(tmp_path / "from-config")) == 1


def test_backup_command_keep_removes_older_archives(populated, tmp_path, env):
    for day in ("01", "02", "03"):
        (tmp_path / f"makechat-202601{day}-000000.tar.gz").write_bytes(b"old")
    assert run(["backup", "-o", str(tmp_path), "--keep", "2"], env) == 0
    names = [path.name for path in backup.list_archives(tmp_path)]
    assert names[0] == "makechat-20260103-000000.tar.gz" and len(names) == 2
    assert "removed" in env.stderr.getvalue()


def test_backup_command_keep_zero_is_refused(populated, tmp_path, env):
    assert run(["backup", "-o", str(tmp_path), "--keep", "0"], env) == 1
    assert list(tmp_path.iterdir()) == []


def test_backup_command_shows_progress_on_a_terminal(populated, tmp_path, env):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    env.stderr = Terminal()
    assert run(["backup", "-o", str(tmp_path)], env) == 0
    assert "messages: 1200 documents" in env.stderr.getvalue()


def test_backup_command_unwritable_directory_fails_one_line(populated, tmp_path, env):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert run(["backup", "-o", str(blocker / "sub")], env) == 1
    lines = env.stderr.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("makechat: error: ")


def test_restore_command_round_trip(populated, tmp_path, env):
    before = snapshot(populated)
    assert run(["backup", "-o", str(tmp_path)], env) == 0
    path = env.stdout.getvalue().strip()
    empty(populated)
    assert run(["restore", path, "--drop"], env) == 0
    assert snapshot(populated) == before
    assert "restored" in env.stdout.getvalue()


def test_plain_backup_command_writes_archive(populated, tmp_path, config):
    """The manual's `docker exec makechat backup`: the console script, as a process."""
    environ = dict(os.environ, MAKECHAT_MONGO_URI=config.mongo_uri)
    result = subprocess.run([str(Path(sys.executable).with_name("backup")), "-o", str(tmp_path)],
                            env=environ, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).parent == tmp_path
    assert len(backup.list_archives(tmp_path)) == 1


def test_restore_command_lists_skipped_collections(config, raw_db, tmp_path, env):
    path = tmp_path / "dump.tar.gz"
    path.write_bytes(tar_gz(good_members() + collection_members(name="evilcoll")))
    assert run(["restore", str(path)], env) == 0
    assert "skipped 1 collection(s) that are not makechat's: evilcoll" in env.stderr.getvalue()
    assert env.stdout.getvalue().startswith("restored 1 documents in 1 collections")


def test_restore_command_missing_file_fails_one_line(env, tmp_path):
    assert run(["restore", str(tmp_path / "nope.tar.gz")], env) == 1
    assert "no such file" in env.stderr.getvalue()


def test_restore_into_other_database_name(populated, tmp_path, raw_db):
    """An archive from database 'makechat' restores into whatever the config names."""
    path = tmp_path / "dump.tar.gz"
    path.write_bytes(tar_gz(good_members("makechat")))
    assert backup.restore_backup(raw_db, path) == {"users": 1}
    assert raw_db.users.find_one({"username": "mallory"})
