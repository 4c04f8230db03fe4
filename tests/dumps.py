"""Helpers shared by the backup and mongo-tools tests: data to dump, and
exact snapshots of a database to compare before and after a restore."""

from datetime import datetime, timedelta, timezone

import bson
from bson import Int64, ObjectId
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

from makechat import backup
from makechat.names import skeleton

RAW = CodecOptions(document_class=RawBSONDocument)
NOW = datetime(2026, 11, 22, 5, 5, 12, 628000, tzinfo=timezone.utc)


def populate(raw_db, make_user):
    """Users with real bcrypt hashes and token digests, a room with its
    counters, members and unicode messages (written with pymongo, as the chat
    API would store them). Return raw_db."""
    admin = make_user("admin", admin=True)
    zoe = make_user("zoe")
    room_id = ObjectId()
    raw_db.rooms.insert_one({
        "_id": room_id, "name": "Café ☕", "name_key": skeleton("Café ☕"),
        "topic": "日本語 topic",
        "is_open": True, "is_visible": False, "created": NOW, "created_by": admin.id,
        "last_seq": Int64(2**40 + 3), "committed_seq": 2**31 - 1, "seq_at": NOW})
    raw_db.members.insert_many([
        {"room": room_id, "user": admin.id, "username": "admin", "role": "owner", "joined": NOW},
        {"room": room_id, "user": zoe.id, "username": "zoe", "role": "member", "joined": NOW}])
    raw_db.messages.insert_many([
        {"room": room_id, "seq": seq, "author": zoe.id, "author_username": "zoe",
         "text": f"message {seq}: привет 👋 \u0000 nul and \U0001F600", "created":
         NOW + timedelta(milliseconds=seq), "edited": None, "deleted": False,
         "dedupe": f"{zoe.id}:{seq}"} for seq in range(1, 1201)])
    return raw_db


def _id_order(raw):
    _id = bson.decode(raw)["_id"]
    return _id.binary if isinstance(_id, ObjectId) else raw


def snapshot(db, names=None):
    """Every document of every collection (or of ``names``) as raw bytes,
    in _id order: exact equality."""
    names = backup.collection_names(db) if names is None else names
    return {name: sorted((document.raw for document in
                          db[name].with_options(codec_options=RAW).find()), key=_id_order)
            for name in names}


def index_names(db):
    return {name: sorted(index["name"] for index in db[name].list_indexes())
            for name in backup.collection_names(db)}


def drop_all(db):
    """Leave the database empty: no collection, no index."""
    for name in db.list_collection_names():
        db[name].drop()
