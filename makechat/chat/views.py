"""Messages as a reader sees them: the stored message
(``makechat.models.message_to_public``) and what is counted when read.

* ``reply_count`` and ``last_reply_at``: on a thread's first message, when
  it has replies (``makechat.chat.threads``);
* ``reactions``: ``[{"emoji", "count", "me"}]``, in the order each emoji was
  first used, when it has any (``makechat.chat.reactions``).

Each costs one query per page, and none for a page whose messages have no
replies or reactions (the hints on the messages say so).
"""

from makechat.chat import reactions, threads
from makechat.chat.documents import Reaction
from makechat.models import Message, message_to_public


def present(user, documents: list[dict]) -> list[dict]:
    """The public form of stored messages, for ``user``."""
    counts = threads.summaries(Message._get_collection(), documents)
    reacted = reactions.summaries(Reaction._get_collection(), user, documents)
    shown = []
    for document in documents:
        public = message_to_public(document)
        if document["_id"] in counts:
            public["reply_count"], public["last_reply_at"] = counts[document["_id"]]
        if reacted.get(document["_id"]):
            public["reactions"] = reacted[document["_id"]]
        shown.append(public)
    return shown
