"""makechat: a self-hosted chat service (Falcon REST API on MongoDB)."""

__version__ = "0.1.0"
