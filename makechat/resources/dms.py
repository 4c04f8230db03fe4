"""/api/dms: the direct conversation between you and some users."""

import falcon

from makechat.ids import ID_SCHEMA, parse_id
from makechat.resources.operation import location, operation
from makechat.validation import object_schema


def dm_schema(max_users):
    """The body: one other user (``user``) or several (``users``), not both."""
    schema = object_schema({"user": ID_SCHEMA,
                            "users": {"type": "array", "items": ID_SCHEMA, "minItems": 1,
                                      "maxItems": max_users - 1,
                                      "x-rule": f"1 to {max_users - 1} user ids"}})
    schema["anyOf"] = [{"required": ["user"]}, {"required": ["users"]}]
    schema["not"] = {"required": ["user", "users"]}
    return schema


class DMsResource:
    def __init__(self, config, direct_messages):
        self.dms = direct_messages
        self.create_schema = dm_schema(config.max_dm_users)

    @operation(
        "The direct conversation between you and one user (or a few): made on first use",
        body="create_schema",
        responses={200: "the conversation, which already existed",
                   201: "made now; Location names the room",
                   400: "neither 'user' nor 'users', both, too many people, or only "
                        "yourself",
                   403: "direct messages are turned off on this server (`allow_dms`)",
                   404: "no such active user"},
        schemas={200: "Room", 201: "Room"}, response_headers=location("room"),
        description="There is one conversation between exactly the same people, whoever "
                    "starts it and however often: a closed, invisible room, named after the "
                    "others in your room list (`dm: true`), whose members cannot be changed "
                    "and which nobody can rename. Post in it with POST /api/messages.",
        tag="rooms", scope="rooms:write")
    def on_post(self, req, resp):
        """Return (making it on first use) the caller's conversation with these users."""
        body = req.context.body
        others = body["users"] if "users" in body else [body["user"]]
        room, created = self.dms.open(req.context.user, [parse_id(other) for other in others])
        resp.status = falcon.HTTP_201 if created else falcon.HTTP_200
        resp.location = f"/api/rooms/{room['_id']}"
        resp.media = room
