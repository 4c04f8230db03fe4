"""/api/rooms and /api/rooms/{room_id}."""


import falcon

from makechat.ids import parse_id
from makechat.names import name_schema, text_schema
from makechat.resources.operation import LINK, PAGING, location, operation, send_page
from makechat.validation import object_schema

ROOM_NAME = name_schema(64)
ROOM_TOPIC = text_schema(500, required_visible=False)
ROOM_FIELDS = {"name": ROOM_NAME, "topic": ROOM_TOPIC,
               "is_open": {"type": "boolean"}, "is_visible": {"type": "boolean"}}
ROOM_CREATE_SCHEMA = object_schema(ROOM_FIELDS, required=("name",))
ROOM_UPDATE_SCHEMA = object_schema(ROOM_FIELDS)

HIDDEN = "no such room, or an invisible room you are not in"


class RoomsResource:
    def __init__(self, room_service):
        self.rooms = room_service

    @operation("List the rooms you may see", query=PAGING,
               responses={200: "visible rooms and your own (an admin sees every room), "
                               "oldest first"},
               schemas={200: "Room[]"}, response_headers=LINK, tag="rooms", scope="rooms:read")
    def on_get(self, req, resp):
        """List the rooms the caller may see: visible ones and their own (admins: all)."""
        query = req.context.query
        send_page(req, resp,
                  self.rooms.list_rooms(req.context.user, query["after"], query["limit"]))

    @operation(
        "Create a room (admin); you become its owner", auth="admin", body=ROOM_CREATE_SCHEMA,
        responses={201: "created; Location names the new room",
                   400: "'name' is missing, or a parameter is unknown or breaks its rule",
                   409: "a room with this name, or one that looks like it (any case, "
                        "look-alike letters, spacing), exists"},
        schemas={201: "Room"}, response_headers=location("new room"), tag="rooms")
    def on_post(self, req, resp):
        """Create a room (admin); its creator becomes its first member, as owner."""
        body = req.context.body
        room = self.rooms.create_room(req.context.user, body["name"],
                                      topic=body.get("topic", ""),
                                      is_open=body.get("is_open", True),
                                      is_visible=body.get("is_visible", True))
        resp.status = falcon.HTTP_201
        resp.location = f"/api/rooms/{room['_id']}"
        resp.media = room


UPDATE = dict(
    body=ROOM_UPDATE_SCHEMA,
    responses={200: "changed", 400: "a parameter is unknown or breaks its rule",
               403: "you are neither an owner of the room nor an admin", 404: HIDDEN,
               409: "another room has this name, or one that looks like it"},
    schemas={200: "Room"}, tag="rooms", scope="rooms:write")


class RoomResource:
    def __init__(self, room_service):
        self.rooms = room_service

    @operation("One room", responses={200: "the room", 404: HIDDEN}, schemas={200: "Room"},
               tag="rooms", scope="rooms:read")
    def on_get(self, req, resp, room_id):
        """Return a room the caller may see, else 404."""
        resp.media = self.rooms.get_room(req.context.user, parse_id(room_id))

    @operation("Change a room's name, topic, is_open or is_visible (owner or admin)", **UPDATE)
    def on_patch(self, req, resp, room_id):
        """Change name, topic, is_open or is_visible (admin or owner)."""
        resp.media = self.rooms.update_room(req.context.user, parse_id(room_id),
                                            req.context.body)

    # PUT takes the same fields as PATCH (the manual lists both).
    on_put = operation("Same as PATCH: change the fields given (owner or admin)",
                       **UPDATE)(on_patch.__wrapped__)

    @operation("Delete a room with its members and messages (owner or admin)",
               responses={204: "deleted", 403: "you are neither an owner of the room nor an "
                                               "admin", 404: HIDDEN}, tag="rooms",
               scope="rooms:write")
    def on_delete(self, req, resp, room_id):
        """Delete the room with its members and messages (admin or owner)."""
        self.rooms.delete_room(req.context.user, parse_id(room_id))
        resp.status = falcon.HTTP_204
