"""/hooks/{hook_id}/{secret}: incoming webhooks, in Slack's format.

Outside /api, so existing notifiers can POST JSON (``{"text": ...}``) or a
form (``payload={...}``) with whatever Accept header they send. The body is
read by the JSON middleware with the API's own bounds (size, time, bodies
in flight) and left raw; it is parsed here with the same depth and text
checks. Success is ``200 ok`` as Slack answers (JSON with the message for a
client that asks for JSON); errors are JSON ``{"title", "description"}``.
"""

from urllib.parse import parse_qs

import falcon

from makechat.bodies import check_json_value
from makechat.bots.incoming import find_hook
from makechat.media import dumps, loads
from makechat.resources.messages import idempotency_key
from makechat.resources.operation import charge


class HookResource:
    def __init__(self, config, incoming):
        self.incoming = incoming
        self.max_depth = config.max_json_depth

    def on_post(self, req, resp, hook_id, secret):
        """Post a Slack-style payload in the webhook's room, as its bot."""
        payload = self._payload(req)
        key = idempotency_key(req)
        hook = find_hook(hook_id, secret)
        charge(req, resp, "hook", hook.id)
        message, replayed = self.incoming.post(hook, payload, key)
        if replayed:
            resp.set_header("Idempotent-Replayed", "true")
        if req.client_prefers(["text/plain", "application/json"]) == "application/json":
            resp.content_type = falcon.MEDIA_JSON
            resp.text = dumps(message)
        else:
            resp.content_type = falcon.MEDIA_TEXT
            resp.text = "ok"

    def _payload(self, req):
        raw = getattr(req.context, "raw_body", b"") or b""
        media = (req.content_type or "").split(";", 1)[0].strip().lower()
        try:
            text = raw.decode("utf-8")
            if media == "application/x-www-form-urlencoded":
                fields = parse_qs(text, keep_blank_values=True, max_num_fields=20)
                if "payload" not in fields:
                    raise falcon.HTTPBadRequest(
                        title="Missing parameter",
                        description="A form body needs a 'payload' field holding the JSON.")
                text = fields["payload"][0]
            elif media not in ("application/json", ""):
                raise falcon.HTTPUnsupportedMediaType(
                    title="Unsupported media type",
                    description="Send JSON (application/json) or a form with a 'payload' "
                                "field (application/x-www-form-urlencoded).")
            if not text.strip():
                raise falcon.HTTPBadRequest(title="Missing body",
                                            description="The request has no payload.")
            payload = loads(text)
            check_json_value(payload, self.max_depth)
        except RecursionError:
            raise falcon.HTTPBadRequest(
                title="Malformed JSON",
                description=f"The payload nests deeper than {self.max_depth} levels.") from None
        except (UnicodeDecodeError, ValueError) as error:
            raise falcon.HTTPBadRequest(
                title="Malformed JSON",
                description=f"The payload could not be decoded as JSON: {error}.") from error
        return payload
