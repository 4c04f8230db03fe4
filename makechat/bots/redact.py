"""Keeping incoming webhooks' secrets out of the logs: their URL holds the
secret (Slack's format), so every log line shows ``/hooks/<id>/***``."""

import re

HOOK_PATH = re.compile(r"(/hooks/[^/\s?]+/)[^/\s?]+")


def redact_path(text: str) -> str:
    """Hide the secret of any incoming webhook URL in a path or request line."""
    return HOOK_PATH.sub(r"\1***", text) if "/hooks/" in text else text
