"""/api/rooms and /api/rooms/{room_id}."""

import falcon
from mongoengine.errors import NotUniqueError, OperationError
from mongoengine.queryset.visitor import Q

from makechat import chat
from makechat.db import is_duplicate_key
from makechat.hooks import require_admin, require_token
from makechat.ids import parse_id
from makechat.models import Room
from makechat.names import name_schema, normalize_name, skeleton, text_schema
from makechat.paging import page_by_id
from makechat.validation import object_schema, validate

ROOM_NAME = name_schema(64)
ROOM_TOPIC = text_schema(500, required_visible=False)
ROOM_FIELDS = {"name": ROOM_NAME, "topic": ROOM_TOPIC,
               "is_open": {"type": "boolean"}, "is_visible": {"type": "boolean"}}
ROOM_CREATE_SCHEMA = object_schema(ROOM_FIELDS, required=("name",))
ROOM_UPDATE_SCHEMA = object_schema(ROOM_FIELDS)


def name_taken(name):
    """409 naming the room in the way: the same name, or one that looks like it."""
    holder = Room.objects(name_key=skeleton(name)).only("name").first()
    if holder is not None and holder.name != name:
        description = f"A room named {holder.name!r} already exists, and {name!r} looks like it."
    else:
        description = f"A room named {name!r} already exists."
    return falcon.HTTPConflict(title="Already exists", description=description)


@falcon.before(require_token)
class RoomsResource:
    def on_get(self, req, resp):
        """List the rooms the caller may see: visible ones and their own (admins: all)."""
        user = req.context.user
        rooms = Room.objects
        if not user.is_superuser:
            rooms = rooms.filter(Q(is_visible=True) | Q(id__in=chat.room_ids_of(user)))
        resp.media = chat.rooms_json(page_by_id(rooms, req, resp), user)

    @falcon.before(require_admin)
    def on_post(self, req, resp):
        """Create a room (admin); its creator becomes its first member, as owner."""
        body = validate(req.context.body, ROOM_CREATE_SCHEMA)
        user = req.context.user
        name = normalize_name(body["name"])
        room = Room(name=name, name_key=skeleton(name), topic=body.get("topic", ""),
                    is_open=body.get("is_open", True), is_visible=body.get("is_visible", True),
                    created_by=user.id)
        try:
            room.save(force_insert=True)
        except NotUniqueError:
            raise name_taken(name)
        chat.add_member(room, user, role="owner")
        resp.status = falcon.HTTP_201
        resp.location = f"/api/rooms/{room.id}"
        resp.media = chat.rooms_json([room], user)[0]


@falcon.before(require_token)
class RoomResource:
    def on_get(self, req, resp, room_id):
        """Return a room the caller may see, else 404."""
        room, _ = chat.visible_room(req.context.user, parse_id(room_id))
        resp.media = chat.rooms_json([room], req.context.user)[0]

    def on_patch(self, req, resp, room_id):
        """Change name, topic, is_open or is_visible (admin or owner)."""
        user = req.context.user
        room, member = chat.visible_room(user, parse_id(room_id))
        chat.require_manager(user, member)
        body = validate(req.context.body, ROOM_UPDATE_SCHEMA)
        updates = {f"set__{field}": value for field, value in body.items()}
        if "name" in body:
            name = normalize_name(body["name"])
            updates["set__name"], updates["set__name_key"] = name, skeleton(name)
        if updates:
            try:
                Room.objects(id=room.id).update_one(**updates)
            except (NotUniqueError, OperationError) as error:
                if not is_duplicate_key(error):
                    raise
                raise name_taken(normalize_name(body["name"]))
        room.reload()
        resp.media = chat.rooms_json([room], user)[0]

    # PUT takes the same fields as PATCH (the manual lists both).
    on_put = on_patch

    def on_delete(self, req, resp, room_id):
        """Delete the room with its members and messages (admin or owner)."""
        user = req.context.user
        room, member = chat.visible_room(user, parse_id(room_id))
        chat.require_manager(user, member)
        chat.delete_room(room)
        resp.status = falcon.HTTP_204
