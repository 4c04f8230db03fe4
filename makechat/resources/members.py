"""/api/members and /api/members/{member_id}."""

import falcon

from makechat import accounts, chat
from makechat.hooks import require_token
from makechat.ids import ID_SCHEMA, parse_id
from makechat.models import Member
from makechat.paging import page_by_id
from makechat.validation import object_schema, validate

ROLE = {"type": "string", "enum": list(chat.ROLES)}
MEMBER_CREATE_SCHEMA = object_schema({"room": ID_SCHEMA, "user": ID_SCHEMA,
                                      "username": {"type": "string", "maxLength": 64},
                                      "role": ROLE},
                                     required=("room",))
MEMBER_CREATE_SCHEMA["not"] = {"required": ["user", "username"]}  # one or the other
MEMBER_UPDATE_SCHEMA = object_schema({"role": ROLE}, required=("role",))


@falcon.before(require_token)
class MembersResource:
    def on_get(self, req, resp):
        """List a room's members (to its members and admins, and to anyone who
        may join it: an open room's members are no secret)."""
        user = req.context.user
        room_id = parse_id(req.get_param("room", required=True))
        room, member = chat.visible_room(user, room_id)
        if not chat.may_see_members(user, room, member):
            raise falcon.HTTPForbidden(title="Not a member",
                                       description="Join the room to see its members.")
        members = page_by_id(Member.objects(room=room.id), req, resp)
        resp.media = [chat.member_json(member) for member in members]

    def on_post(self, req, resp):
        """Join an open room, or (owner/admin) add someone to any room, by
        user id or by username."""
        user = req.context.user
        if {"user", "username"} <= set(req.context.body or {}):
            raise falcon.HTTPBadRequest(title="Invalid parameter",
                                        description="Give either 'user' or 'username', not both.")
        body = validate(req.context.body, MEMBER_CREATE_SCHEMA)
        room, caller = chat.visible_room(user, parse_id(body["room"]))
        if "username" in body:
            named = accounts.find_user(body["username"])
            target_id = named.id if named is not None else None
            if target_id is None:
                chat.require_manager(user, caller)  # a stranger learns nothing of names
                raise chat.no_such("user")
        else:
            target_id = parse_id(body["user"]) if "user" in body else user.id
        role = body.get("role", "member")
        if target_id == user.id and role == "member" and "role" not in body:
            if caller is not None:
                resp.media = chat.member_json(caller)
                return
            if not room.is_open and not user.is_superuser:
                raise falcon.HTTPForbidden(
                    title="Room closed",
                    description="This room is closed; ask its owner or an admin to add you.")
            target = user
        else:
            chat.require_manager(user, caller)
            target = chat.active_user(target_id)
        member, created = chat.add_member(room, target, role=role)
        resp.status = falcon.HTTP_201 if created else falcon.HTTP_200
        resp.media = chat.member_json(member)


@falcon.before(require_token)
class MemberResource:
    def _load(self, user, member_id):
        """Return (member, caller's membership) if the caller may see the room."""
        object_id = parse_id(member_id)
        member = Member.objects(id=object_id).first() if object_id else None
        if member is None:
            raise chat.no_such("member")
        try:
            _, caller = chat.visible_room(user, member.room)
        except falcon.HTTPNotFound:
            raise chat.no_such("member") from None
        if caller is None and not user.is_superuser:
            raise chat.no_such("member")
        return member, caller

    def on_get(self, req, resp, member_id):
        """Return one membership (to the room's members and admins)."""
        member, _ = self._load(req.context.user, member_id)
        resp.media = chat.member_json(member)

    def on_patch(self, req, resp, member_id):
        """Change a member's role (owner or admin)."""
        user = req.context.user
        member, caller = self._load(user, member_id)
        chat.require_manager(user, caller)
        body = validate(req.context.body, MEMBER_UPDATE_SCHEMA)
        if body["role"] == "member" and member.role == "owner" and \
                Member.objects(room=member.room, role="owner").count() == 1:
            raise falcon.HTTPConflict(
                title="Last owner",
                description="A room needs an owner: promote another member first.")
        Member.objects(id=member.id).update_one(set__role=body["role"])
        if body["role"] == "member":
            chat.ensure_an_owner(member.room)  # a parallel demotion may have passed the check
        member.reload()
        resp.media = chat.member_json(member)

    def on_delete(self, req, resp, member_id):
        """Leave a room (yourself) or remove a member (owner or admin)."""
        user = req.context.user
        member, caller = self._load(user, member_id)
        if member.user != user.id:
            chat.require_manager(user, caller)
        member.delete()
        chat.ensure_an_owner(member.room)
        resp.status = falcon.HTTP_204
