"""/api/search: messages by their words, in your rooms."""

import falcon

from makechat.chat.search import search
from makechat.ids import parse_id
from makechat.resources.operation import (
    BEFORE,
    ID_TEXT_PATTERN,
    LIMIT,
    LINK,
    Query,
    operation,
    set_next_link,
)


def _read_query(param, req):
    value = req.get_param(param.name, required=True)
    longest = param.schema["maxLength"]
    if not 1 <= len(value) <= longest:
        raise falcon.HTTPInvalidParam(f"The query must be 1 to {longest} characters "
                                      "(`search_max_query_length`).", param.name)
    return value


def _read_room(param, req):
    value = req.get_param(param.name)
    if value is None:
        return None
    room_id = parse_id(value)
    if room_id is None:
        raise falcon.HTTPInvalidParam("The room must be a room id.", param.name)
    return room_id


def query_param(longest):
    return Query("q", {"type": "string", "minLength": 1, "maxLength": longest},
                 "The words to look for (every one must be in a message); case and accents "
                 "do not matter.", True, _read_query)


ROOM = Query("room", {"type": "string", "pattern": ID_TEXT_PATTERN},
             "Only this room (one you belong to); without it, all of your rooms.", False,
             _read_room)


class SearchResource:
    def __init__(self, config):
        self.max_keys = config.search_max_words
        self.search_query = (query_param(config.search_max_query_length), ROOM, LIMIT, BEFORE)

    @operation(
        "Find messages by their words in your rooms, newest first",
        query="search_query",
        responses={200: "the messages holding every word, newest first, each with `marked`",
                   400: "'q' is missing, too long (`search_max_query_length`), has no word "
                        "or more than `search_max_words`, or a parameter is malformed",
                   403: "you are not a member of the room",
                   404: "no such room, or an invisible room you are not in"},
        schemas={200: "SearchResult[]"}, response_headers=LINK,
        description="A word is a run of letters and digits; case and accents are ignored "
                    "(`cafe` finds `Café`), whole words only (no prefixes, no stemming). "
                    "Chinese and Japanese are matched by pairs of characters. `marked` is "
                    "the text in pieces, `{\"text\", \"match\"}`. When there is more, "
                    "`Link` names the next (older) page. See the conversations page of the "
                    "docs for what search does not do.",
        tag="messages", scope="messages:read", rate="search")
    def on_get(self, req, resp):
        """Search the caller's rooms (or one of them) for messages holding every word."""
        user, query = req.context.user, req.context.query
        results, cursor = search(user, query["q"], query["room"], before=query["before"],
                                 limit=query["limit"], max_keys=self.max_keys)
        if cursor is not None:
            set_next_link(req, resp, before=str(cursor), limit=query["limit"])
        resp.media = results
