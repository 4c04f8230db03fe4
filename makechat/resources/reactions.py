"""/api/messages/{message_id}/reactions/{emoji}: your reaction to a message."""

import falcon

from makechat.chat.reactions import EMOJI_RULE, MAX_CODE_POINTS
from makechat.resources.operation import operation

EMOJI = ({"type": "string", "minLength": 1, "maxLength": MAX_CODE_POINTS,
          "x-rule": EMOJI_RULE},
         f"The emoji, URL-encoded (👍 is %F0%9F%91%8D): {EMOJI_RULE}.")
ELSEWHERE = "no such message in a room you belong to"


class ReactionResource:
    def __init__(self, reactions):
        self.reactions = reactions

    @operation(
        "React to a message with an emoji (a member of its room)",
        responses={200: "the message with its `reactions` (reacting twice changes nothing)",
                   400: "the emoji is not one", 404: ELSEWHERE,
                   409: "you already put `max_reactions_per_user` different emoji on it"},
        schemas={200: "Message"}, path={"emoji": EMOJI}, tag="messages",
        scope="messages:write")
    def on_put(self, req, resp, message_id, emoji):
        """Add the caller's reaction (idempotent)."""
        resp.media = self.reactions.add(req.context.user, message_id, emoji)

    @operation(
        "Take back your reaction to a message",
        responses={204: "removed (or there was none)", 400: "the emoji is not one",
                   404: ELSEWHERE},
        path={"emoji": EMOJI}, tag="messages",
        scope="messages:write")
    def on_delete(self, req, resp, message_id, emoji):
        """Remove the caller's reaction with this emoji, if any."""
        self.reactions.remove(req.context.user, message_id, emoji)
        resp.status = falcon.HTTP_204
