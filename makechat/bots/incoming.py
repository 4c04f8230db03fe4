"""Incoming webhooks: a POST to ``/hooks/<id>/<secret>`` posts a message in
the webhook's room as its bot.

Slack's incoming-webhook payload is accepted, so the notifiers people
already have work unchanged: ``text``, ``username`` and ``icon_url`` (shown
as the message's ``display_name`` and ``icon_url``; the author stays the
bot, marked ``is_bot``, so nobody can pass for someone else),
``attachments`` and ``blocks`` rendered as text, Slack's ``<url|label>``
links and ``&amp;`` escapes, and the form-encoded ``payload=`` variant.
Other Slack fields (``channel``, ``icon_emoji``, ``mrkdwn``, ...) are
accepted and ignored. An ``Idempotency-Key`` makes a retry return the first
message instead of posting a second.
"""

import hmac
import re
from datetime import timedelta
from typing import Any, NamedTuple

from makechat.auth import Caller, token_digest
from makechat.bots.documents import IncomingWebhook
from makechat.chat.access import member_room
from makechat.chat.events import MESSAGE
from makechat.chat.mentions import mention_fields
from makechat.chat.messagelog import IdempotencyConflict
from makechat.exceptions import Forbidden, Invalid, NotFound, no_such
from makechat.ids import parse_id
from makechat.models import User, message_to_public, utcnow
from makechat.words import words_of

LINK = re.compile(r"<([^<>|\s]+)(?:\|([^<>]+))?>")
ESCAPES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
MAX_NAME = 80
MAX_ITEMS = 100
LAST_USED_RESOLUTION = timedelta(seconds=60)


def _string(payload, key, where="", limit=None):
    value = payload.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid(f"The '{where}{key}' field must be a string.")
    if limit is not None and len(value) > limit:
        raise Invalid(f"The '{where}{key}' field may be at most {limit} characters.")
    return value


def _items(payload, key):
    value = payload.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ITEMS or \
            not all(isinstance(item, dict) for item in value):
        raise Invalid(f"The '{key}' field must be a list of at most {MAX_ITEMS} objects.")
    return value


def slack_text(text: str) -> str:
    """Slack's markup as plain text: ``<url|label>`` is "label (url)"."""
    def link(match):
        url, label = match.group(1), match.group(2)
        if url.startswith(("@", "#", "!")):
            return label or url
        return f"{label} ({url})" if label else url
    text = LINK.sub(link, text)
    for escaped, plain in ESCAPES:
        text = text.replace(escaped, plain)
    return text


def _attachment(item, where):
    lines = [_string(item, "pretext", where)]
    title = _string(item, "title", where)
    link = _string(item, "title_link", where)
    author = _string(item, "author_name", where)
    lines.append(f"{author}:" if author else "")
    lines.append(f"{title} ({link})" if title and link else title)
    lines.append(_string(item, "text", where))
    for field in _items(item, "fields"):
        name, value = _string(field, "title", where), _string(field, "value", where)
        lines.append(f"{name}: {value}" if name else value)
    lines.append(_string(item, "footer", where))
    shown = [line for line in lines if line]
    return shown or [_string(item, "fallback", where)]


def _block_text(value):
    if isinstance(value, dict):
        value = value.get("text")
    return value if isinstance(value, str) else ""


def _block(block):
    lines = [_block_text(block.get("text"))]
    for key in ("fields", "elements"):
        items = block.get(key)
        if isinstance(items, list):
            lines += [_block_text(item) for item in items[:MAX_ITEMS]]
    return [line for line in lines if line]


class Rendered(NamedTuple):
    text: str
    display_name: str
    icon_url: str


def render(payload: Any, max_length: int) -> Rendered:
    """A Slack-style payload as a message's text, display name and icon."""
    if not isinstance(payload, dict):
        raise Invalid("The payload must be a JSON object.", title="Invalid body")
    text = _string(payload, "text")
    blocks = [line for block in _items(payload, "blocks") for line in _block(block)]
    parts = ["\n".join(blocks)] if blocks else [text]
    for number, item in enumerate(_items(payload, "attachments")):
        parts.append("\n".join(_attachment(item, f"attachments[{number}].")))
    rendered = slack_text("\n\n".join(part for part in parts if part.strip())).strip()
    if not rendered:
        raise Invalid("The payload needs a 'text' (or 'attachments' or 'blocks' with text).",
                      title="Missing parameter")
    if len(rendered) > max_length:
        raise Invalid(f"The message would be {len(rendered)} characters long; at most "
                      f"{max_length} are allowed.", title="Message too long")
    icon = _string(payload, "icon_url", limit=2000)
    if icon and not icon.startswith(("https://", "http://")):
        raise Invalid("The 'icon_url' field must be an http(s) URL.")
    return Rendered(rendered, _string(payload, "username", limit=MAX_NAME).strip(), icon)


def find_hook(hook_id: str, secret: str) -> IncomingWebhook:
    """The webhook of a URL; a wrong secret is no such webhook (as Slack's 404)."""
    object_id = parse_id(hook_id)
    hook = IncomingWebhook.objects(id=object_id).first() if object_id else None
    # SECURITY: compared in constant time, and only digests are stored.
    if hook is None or not hmac.compare_digest(hook.digest, token_digest(secret)):
        raise NotFound("No such webhook; it was revoked, or the URL is mistyped.")
    return hook


class Incoming:
    """Posting through incoming webhooks into the message log."""

    def __init__(self, store, watcher, max_length, mention_room_max_members=20):
        self.store = store
        self.watcher = watcher
        self.max_length = max_length
        self.mention_room_max_members = mention_room_max_members

    def post(self, hook: IncomingWebhook, payload: Any, idempotency_key: str | None = None):
        """Post the payload in the hook's room as its bot; return (message, replayed)."""
        rendered = render(payload, self.max_length)
        dedupe = f"hook:{hook.id}:{idempotency_key}" if idempotency_key else None
        try:
            posted = self.post_as_bot(hook.bot, hook.room, rendered, dedupe)
        except NotFound:
            raise no_such("webhook") from None
        now = utcnow()
        if hook.last_used is None or now - hook.last_used > LAST_USED_RESOLUTION:
            IncomingWebhook.objects(id=hook.id).update_one(set__last_used=now)
        return message_to_public(posted.message), posted.replayed

    def post_as_bot(self, bot_id, room_id, rendered: Rendered, dedupe: str | None):
        """Post rendered text in a room as a bot that is a member of it (an
        incoming webhook, or a bot's reply to an outgoing one); return Posted.
        With ``dedupe``, a second post with it replays the first."""
        bot = User._get_collection().find_one({"_id": bot_id}, {"username": 1, "is_active": 1})
        if bot is None or not bot.get("is_active", True):
            raise Forbidden("The webhook's bot is disabled.", title="Bot disabled")
        caller = Caller(bot["_id"], bot["username"], False, is_bot=True)
        try:
            room, member = member_room(caller, room_id)
        except Forbidden:
            raise Forbidden("The webhook's bot is no longer a member of its room; an owner "
                            "can add it back.", title="Bot not in the room") from None
        fields = {"type": MESSAGE, "author": caller.id, "author_username": caller.username,
                  "text": rendered.text, "edited": None, "deleted": False, "edit_seq": 0,
                  "bot": True, "words": words_of(rendered.text),
                  # a bot mentions as a member, but its @room in a large room
                  # mentions nobody rather than losing the post
                  **mention_fields(caller, room.id, member, rendered.text,
                                   self.mention_room_max_members, strict=False)}
        if rendered.display_name:
            fields["display_name"] = rendered.display_name
        if rendered.icon_url:
            fields["icon_url"] = rendered.icon_url
        posted = self.store.append(room.id, fields, dedupe)
        if posted.replayed and (posted.message.get("text") != rendered.text
                                or posted.message["room"] != room.id):
            raise IdempotencyConflict()
        self.watcher.notify(room.id, posted.mark)
        return posted
