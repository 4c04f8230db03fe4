"""The baseline: the least a Falcon app on raw pymongo does for makechat's
four busiest routes, to measure makechat against.

    python bench/baseline.py COUNTS_FOLDER --port 8090

Same routes, same auth header, same JSON shapes and the same collections as
makechat (it reads and writes makechat's own documents), served by the same
gunicorn settings: the server class is makechat's ``MakechatServer``, with
only the app it loads replaced, so workers, worker class, connections,
keep-alive and access log are what ``makechat serve`` uses. Its database
commands are counted as makechat's are (bench/commands.py).

What it leaves out, on purpose: the commit protocol of makechat's message
log (a post is a plain ``$inc`` of the room's counter and an insert; on a
duplicate seq, which FerretDB's non-atomic ``$inc`` makes common, the
counter is moved past the highest seq and the post draws again), idempotency keys, events,
request ids, body limits and validation beyond what the shapes need.

    GET  /api/messages?room=R[&limit=N]   the latest N (50) messages, members only
    POST /api/messages {"room", "text"}   member check, $inc, insert; 201
    GET  /api/rooms                       visible rooms and one's own, with members,
                                          read_seq and unread
    GET  /api/events?cursor=C             the events of one's rooms after a cursor, as
                                          long-poll JSON without a wait (a client
                                          catching up): {"events", "cursor"}
"""

import hashlib
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import commands  # noqa: E402

JSON_TYPE = "application/json; charset=utf-8"
IS_MESSAGE = {"$in": ["message", None]}


def _default(value):
    from bson import ObjectId
    if isinstance(value, ObjectId):
        return {"$oid": str(value)}
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    raise TypeError(type(value).__name__)


def dumps(value):
    return json.dumps(value, default=_default, ensure_ascii=False)


def encode_cursor(positions):
    """makechat's cursor (makechat/chat/streams.py): a version, then each
    room's id and seq as unsigned LEB128, base64url."""
    import base64
    raw = bytearray()
    for room_id in sorted(positions, key=lambda oid: oid.binary):
        raw += room_id.binary
        seq = positions[room_id]
        while True:
            byte, seq = seq & 0x7F, seq >> 7
            raw.append(byte | (0x80 if seq else 0))
            if not seq:
                break
    return f"1.{base64.urlsafe_b64encode(bytes(raw)).decode().rstrip('=')}"


def decode_cursor(text):
    import base64

    from bson import ObjectId
    body = (text or "").partition(".")[2]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    positions, index = {}, 0
    while index < len(raw):
        room_id, index, seq, shift = ObjectId(raw[index:index + 12]), index + 12, 0, 0
        while True:
            byte, index = raw[index], index + 1
            seq, shift = seq | (byte & 0x7F) << shift, shift + 7
            if not byte & 0x80:
                break
        positions[room_id] = seq
    return positions


def event_to_public(entry):
    kind = entry.get("type") or "message"
    if kind == "message":
        actor = {"_id": entry.get("author"), "username": entry.get("author_username", "")}
        data = {**message_to_public(entry), "deleted": bool(entry.get("deleted"))}
    else:
        actor = {"_id": entry.get("actor"), "username": entry.get("actor_username", "")}
        data = dict(entry.get("data") or {})
    return {"seq": entry["seq"], "room": entry["room"], "type": kind, "at": entry["created"],
            "actor": actor, "data": data}


def utcnow():
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def message_to_public(message):
    return {"_id": message["_id"], "room": message["room"], "seq": message["seq"],
            "author": message.get("author"), "author_username": message.get("author_username", ""),
            "text": message.get("text", ""), "created": message["created"],
            "edited": message.get("edited")}


def create_app(mongo_uri):
    import falcon
    import pymongo
    from bson import ObjectId
    from bson.errors import InvalidId
    from pymongo.errors import DuplicateKeyError

    client = pymongo.MongoClient(mongo_uri, tz_aware=True)
    db = client.get_default_database(default="makechat")
    tokens, users, rooms, members = db.tokens, db.users, db.rooms, db.members
    messages, markers = db.messages, db.read_markers

    def fail(status, title, description):
        raise falcon.HTTPError(status, title=title, description=description)

    def authenticate(req):
        secret = (req.get_header("X-Auth-Token") or "").strip()
        token = tokens.find_one({"digest": hashlib.sha256(secret.encode()).hexdigest()}) \
            if secret else None
        now = utcnow()
        if token is None or (token.get("expires") and token["expires"] <= now):
            fail(falcon.HTTP_401, "Not authenticated", "Send a valid X-Auth-Token header.")
        user = users.find_one({"_id": token["owner"]})
        if user is None or not user.get("is_active", True):
            fail(falcon.HTTP_401, "Not authenticated", "Send a valid X-Auth-Token header.")
        return user

    def member_of(user, room_text):
        try:
            room_id = ObjectId(room_text)
        except (InvalidId, TypeError):
            fail(falcon.HTTP_404, "Not found", "No such room.")
        if members.find_one({"room": room_id, "user": user["_id"]}, {"_id": 1}) is None:
            # NOTE: makechat tells a missing room (404) from one you are not
            # in (403); the benchmark only asks as a member.
            fail(falcon.HTTP_403, "Not a member", "Join the room to read or post messages in it.")
        return room_id

    def send(resp, value, status=falcon.HTTP_200):
        resp.status = status
        resp.content_type = JSON_TYPE
        resp.text = dumps(value)

    class Messages:
        def on_get(self, req, resp):
            user = authenticate(req)
            room_id = member_of(user, req.get_param("room"))
            limit = req.get_param_as_int("limit", min_value=1, max_value=200) or 50
            found = list(messages.find({"room": room_id, "type": IS_MESSAGE, "deleted": False})
                         .sort("seq", -1).limit(limit + 1))
            if len(found) > limit:
                found = found[:limit]
                resp.append_header("Link", f'</api/messages?room={room_id}&limit={limit}'
                                           f'&before={found[-1]["seq"]}>; rel="next"')
            found.reverse()
            send(resp, [message_to_public(message) for message in found])

        def on_post(self, req, resp):
            user = authenticate(req)
            body = json.loads(req.bounded_stream.read() or b"{}")
            text = body.get("text")
            if not isinstance(text, str) or not text.strip():
                fail(falcon.HTTP_400, "Invalid parameter", "'text' is required.")
            room_id = member_of(user, body.get("room"))
            for _ in range(20):
                room = rooms.find_one_and_update({"_id": room_id}, {"$inc": {"last_seq": 1}},
                                                 return_document=pymongo.ReturnDocument.AFTER)
                message_id = ObjectId()
                message = {"_id": message_id, "room": room_id, "seq": room["last_seq"],
                           "created": utcnow(), "type": "message", "author": user["_id"],
                           "author_username": user["username"], "text": text, "edited": None,
                           "deleted": False, "edit_seq": 0, "dedupe": f"id:{message_id}"}
                try:
                    messages.insert_one(message)
                    break
                except DuplicateKeyError:
                    # FerretDB v1's $inc is a read then a write: concurrent
                    # posts can draw one number, and the counter can fall
                    # behind the numbers in use. Move it past them, draw again.
                    top = messages.find_one({"room": room_id}, {"seq": 1}, sort=[("seq", -1)])
                    rooms.update_one({"_id": room_id}, {"$max": {"last_seq": top["seq"]}})
            else:
                fail(falcon.HTTP_503, "Busy", "Retry.")
            resp.location = f"/api/messages/{message_id}"
            send(resp, message_to_public(message), falcon.HTTP_201)

    class Rooms:
        def on_get(self, req, resp):
            user = authenticate(req)
            mine = [m["room"] for m in members.find({"user": user["_id"]}, {"room": 1})]
            query = {} if user.get("is_superuser") else \
                {"$or": [{"is_visible": True}, {"_id": {"$in": mine}}]}
            page = list(rooms.find(query).sort("_id", 1).limit(51))
            if len(page) > 50:
                page = page[:50]
                resp.append_header("Link", f'</api/rooms?after={page[-1]["_id"]}&limit=50>; '
                                           'rel="next"')
            ids = [room["_id"] for room in page]
            room_members, roles = {room_id: [] for room_id in ids}, {}
            joined = {}
            for member in members.find({"room": {"$in": ids}}, {
                    "room": 1, "user": 1, "role": 1, "joined_seq": 1}).sort("joined", 1):
                room_members[member["room"]].append(member["user"])
                if member["user"] == user["_id"]:
                    roles[member["room"]] = member["role"]
                    joined[member["room"]] = member.get("joined_seq") or 0
            reads, counts, mentions = {}, {}, {}
            if roles:
                found = {m["room"]: m["seq"] for m in markers.find(
                    {"user": user["_id"], "room": {"$in": list(roles)}}, {"room": 1, "seq": 1})}
                marks = {room["_id"]: room.get("committed_seq", 0) for room in page}
                reads = {room_id: found.get(room_id, 0) for room_id in roles}
                counts = dict.fromkeys(roles, 0)
                wanted = [{"room": room_id, "seq": {"$gt": seq, "$lte": marks[room_id]}}
                          for room_id, seq in reads.items() if marks[room_id] > seq]
                if wanted:
                    for row in messages.aggregate([
                            {"$match": {"$or": wanted, "type": IS_MESSAGE, "deleted": False,
                                        "author": {"$ne": user["_id"]}}},
                            {"$group": {"_id": "$room", "unread": {"$sum": 1}}}]):
                        counts[row["_id"]] = row["unread"]
                wanted = [{"room": room_id, "seq": {"$gt": max(seq, joined[room_id]),
                                                    "$lte": marks[room_id]}}
                          for room_id, seq in reads.items()
                          if counts[room_id] and marks[room_id] > max(seq, joined[room_id])]
                if wanted:
                    for row in messages.aggregate([
                            {"$match": {"$or": wanted, "mentions": {"$in": [user["_id"], "@room"]},
                                        "author": {"$ne": user["_id"]}, "type": IS_MESSAGE,
                                        "deleted": False}},
                            {"$group": {"_id": "$room", "count": {"$sum": 1}}}]):
                        mentions[row["_id"]] = row["count"]
            shown = []
            for room in page:
                public = {"_id": room["_id"], "name": room["name"], "topic": room.get("topic", ""),
                          "is_open": room.get("is_open", True),
                          "is_visible": room.get("is_visible", True),
                          "members": room_members[room["_id"]], "created": room.get("created"),
                          "created_by": room.get("created_by"), "role": roles.get(room["_id"]),
                          "last_seq": room.get("committed_seq", 0)}
                if not (public["is_open"] or room["_id"] in roles or user.get("is_superuser")):
                    del public["members"], public["last_seq"], public["created_by"]
                if room["_id"] in reads:
                    public["read_seq"], public["unread"] = reads[room["_id"]], counts[room["_id"]]
                    public["mentions_unread"] = mentions.get(room["_id"], 0)
                shown.append(public)
            send(resp, shown)

    class Events:
        def on_get(self, req, resp):
            # NOTE: only what the benchmark asks: a cursor over exactly the
            # caller's rooms, no wait, no stream; read markers as makechat
            # sends them on connecting.
            user = authenticate(req)
            mine = {m["room"] for m in members.find({"user": user["_id"]}, {"room": 1})}
            try:
                positions = decode_cursor(req.get_param("cursor"))
            except (ValueError, IndexError):
                fail(falcon.HTTP_400, "Invalid cursor", "The cursor is not one this server "
                                                        "gave out.")
            positions = {room_id: seq for room_id, seq in positions.items() if room_id in mine}
            marks = {room["_id"]: room.get("committed_seq", 0) for room in
                     rooms.find({"_id": {"$in": list(positions)}}, {"committed_seq": 1})}
            found = []
            for marker in markers.find({"user": user["_id"], "room": {"$in": list(positions)}},
                                       {"room": 1, "seq": 1}):
                found.append({"seq": None, "room": marker["room"], "type": "read",
                              "data": {"seq": marker["seq"]}})
            for room_id, seq in positions.items():
                if marks.get(room_id, 0) > seq:
                    for entry in messages.find({"room": room_id, "seq": {
                            "$gt": seq, "$lte": marks[room_id]}}).sort("seq", 1).limit(200):
                        positions[room_id] = entry["seq"]
                        if entry.get("type") != "gap":
                            found.append(event_to_public(entry))
            send(resp, {"events": found, "cursor": encode_cursor(positions)})

    app = falcon.App()
    app.add_route("/api/messages", Messages())
    app.add_route("/api/rooms", Rooms())
    app.add_route("/api/events", Events())
    return app


def main(argv):
    import argparse

    from makechat.config import load_config
    from makechat.server import MakechatServer, raise_open_files_limit

    parser = argparse.ArgumentParser(description="the baseline app, under makechat's gunicorn "
                                                 "settings")
    parser.add_argument("counts", help="folder for the command counts (bench/commands.py)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--log-level", dest="log_level")
    args = parser.parse_args(argv)
    config = load_config()
    overrides = {name: getattr(args, name) for name in ("host", "port", "workers", "log_level")
                 if getattr(args, name) is not None}
    config = config.replace(**overrides)

    class BaselineServer(MakechatServer):
        def load(self):
            # In the worker, after gevent patched the standard library.
            commands.install(args.counts)
            return create_app(config.mongo_uri)

    raise_open_files_limit(config.worker_connections + 256)
    BaselineServer(config).run()


if __name__ == "__main__":
    main(sys.argv[1:])
