"""/api/mentions: the messages that mention you."""

from makechat.chat.mentions import list_mentions
from makechat.chat.views import present
from makechat.resources.operation import BEFORE, LIMIT, LINK, operation, set_next_link


class MentionsResource:
    @operation(
        "The messages that mention you (@you or @room), newest first, in your rooms",
        query=(LIMIT, BEFORE),
        responses={200: "the messages, newest first"},
        schemas={200: "Message[]"}, response_headers=LINK,
        description="Across every room you belong to (and only those); `@room` counts from "
                    "when you joined. When there is more, `Link` names the next (older) "
                    "page.",
        tag="messages", scope="messages:read")
    def on_get(self, req, resp):
        """List the messages that mention the caller, newest first."""
        user, query = req.context.user, req.context.query
        found, cursor = list_mentions(user, query["before"], query["limit"])
        if cursor is not None:
            set_next_link(req, resp, before=str(cursor), limit=query["limit"])
        resp.media = present(user, found)
