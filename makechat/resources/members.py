"""/api/members and /api/members/{member_id}."""

import falcon

from makechat.chat.access import ROLES
from makechat.ids import ID_SCHEMA, parse_id
from makechat.resources.operation import LINK, PAGING, ROOM, operation, send_page
from makechat.validation import object_schema

ROLE = {"type": "string", "enum": list(ROLES)}
MEMBER_CREATE_SCHEMA = object_schema({"room": ID_SCHEMA, "user": ID_SCHEMA,
                                      "username": {"type": "string", "maxLength": 64},
                                      "role": ROLE},
                                     required=("room",))
MEMBER_CREATE_SCHEMA["not"] = {"required": ["user", "username"]}  # one or the other
MEMBER_UPDATE_SCHEMA = object_schema({"role": ROLE}, required=("role",))

ELSEWHERE = "no such membership in a room of yours"
NOT_MANAGER = "you are neither an owner of the room nor an admin"


class MembersResource:
    def __init__(self, room_service):
        self.rooms = room_service

    @operation(
        "List a room's members (its members and admins; anyone, for an open room)",
        query=(*PAGING, ROOM),
        responses={200: "the members, oldest first",
                   400: "'room' is missing, or 'limit' or 'after' is malformed",
                   403: "the room is closed and you are not a member of it (nor an admin)",
                   404: "no such room, or an invisible room you are not in"},
        schemas={200: "Member[]"}, response_headers=LINK, tag="members", scope="rooms:read")
    def on_get(self, req, resp):
        """List a room's members (to its members and admins, and to anyone who
        may join it: an open room's members are no secret)."""
        query = req.context.query
        send_page(req, resp, self.rooms.list_members(req.context.user, query["room"],
                                                     query["after"], query["limit"]))

    @operation(
        "Join an open room, or (owner or admin) add someone to a room",
        body=MEMBER_CREATE_SCHEMA,
        responses={200: "you already are a member: your membership",
                   201: "joined or added",
                   400: "'room' is missing, both 'user' and 'username' are given, or a "
                        "parameter is unknown or breaks its rule",
                   403: "the room is closed (to join it), or you are not its owner nor an "
                        "admin (to add someone else or to set a role)",
                   404: "no such room (or invisible to you), or no such active user"},
        schemas={200: "Member", 201: "Member"},
        description="With only `room`, you join it. With `user` (an id) or `username` (and "
                    "optionally `role`), an owner of the room or an admin adds that user; "
                    "adding an existing member returns the membership with 200.",
        tag="members", scope="rooms:write")
    def on_post(self, req, resp):
        """Join an open room, or (owner/admin) add someone to any room, by
        user id or by username."""
        body = req.context.body
        member, created = self.rooms.add_member(
            req.context.user, parse_id(body["room"]),
            target_id=parse_id(body["user"]) if "user" in body else None,
            username=body.get("username"), role=body.get("role"))
        resp.status = falcon.HTTP_201 if created else falcon.HTTP_200
        resp.media = member


class MemberResource:
    def __init__(self, room_service):
        self.rooms = room_service

    @operation("One membership (the room's members and admins)",
               responses={200: "the membership", 404: ELSEWHERE}, schemas={200: "Member"},
               tag="members", scope="rooms:read")
    def on_get(self, req, resp, member_id):
        """Return one membership (to the room's members and admins)."""
        resp.media = self.rooms.get_member(req.context.user, parse_id(member_id))

    @operation(
        "Change a member's role (owner or admin)", body=MEMBER_UPDATE_SCHEMA,
        responses={200: "changed", 400: "'role' is missing or not 'owner' or 'member'",
                   403: NOT_MANAGER, 404: ELSEWHERE,
                   409: "the room's last owner cannot be demoted; promote another member "
                        "first"},
        schemas={200: "Member"}, tag="members", scope="rooms:write")
    def on_patch(self, req, resp, member_id):
        """Change a member's role (owner or admin)."""
        resp.media = self.rooms.change_role(req.context.user, parse_id(member_id),
                                            req.context.body["role"])

    @operation(
        "Leave a room, or (owner or admin) remove a member",
        responses={204: "removed; if no owner is left, the longest-standing member becomes "
                        "owner",
                   403: "it is someone else's membership and you are neither an owner nor "
                        "an admin",
                   404: ELSEWHERE}, tag="members", scope="rooms:write")
    def on_delete(self, req, resp, member_id):
        """Leave a room (yourself) or remove a member (owner or admin)."""
        self.rooms.remove_member(req.context.user, parse_id(member_id))
        resp.status = falcon.HTTP_204
