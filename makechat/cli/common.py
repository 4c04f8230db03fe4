"""What every command shares: its environment, its one kind of failure,
the configuration, and naming and reaching the database."""

import dataclasses
import os
import re
import sys
from typing import TextIO
from urllib.parse import unquote


@dataclasses.dataclass
class Env:
    """What a command may touch: its streams and the process environment."""

    stdout: TextIO = sys.stdout
    stderr: TextIO = sys.stderr
    stdin: TextIO = sys.stdin
    environ: dict = dataclasses.field(default_factory=lambda: dict(os.environ))
    #: The name the command's messages start with ("makechat: ...").
    prog: str = "makechat"


class CommandError(Exception):
    """A command failed for a reason the operator can act on; str() says which."""


def redact_uri(uri):
    """Hide the password of a MongoDB URI before printing it."""
    return re.sub(r"(mongodb(?:\+srv)?://[^:/@]+:)[^@]*@", r"\1***@", uri)


def load(env):
    from makechat.config import ConfigError, load_config
    try:
        return load_config(env.environ)
    except ConfigError as error:
        raise CommandError(f"configuration error: {error}") from None


def server_address(uri):
    """The scheme, credentials (password hidden) and hosts of a MongoDB URI,
    without its database and options (an option may hold a secret too)."""
    return re.sub(r"^([^:/]+://[^/?]*).*$", r"\1", redact_uri(uri), flags=re.S)


def uri_database(uri):
    """The database a MongoDB URI names, 'makechat' if none (as makechat.db
    reads it, without importing pymongo: ``serve`` must not, before gevent
    patches the standard library)."""
    match = re.match(r"^[^:/]+://[^/?]*/([^?]*)", uri)
    return unquote(match.group(1)) if match and match.group(1) else "makechat"


def database_line(config, environ):
    """Say which database a command uses and where that setting came from."""
    from_file = f"config: {config.source}" if config.source else ""
    if "MAKECHAT_MONGO_URI" in environ:
        origin = f"from MAKECHAT_MONGO_URI; {from_file or 'no config file found'}"
    else:
        origin = from_file or "no config file found; defaults apply"
    return (f"using database {uri_database(config.mongo_uri)} at "
            f"{server_address(config.mongo_uri)} ({origin})")


def announce_database(config, env):
    # NOTE: on stderr, so stdout stays what scripts read (an archive's path).
    print(f"{env.prog}: {database_line(config, env.environ)}", file=env.stderr, flush=True)


def database_error_text(error):
    """The first useful line of a pymongo error: without pymongo's own
    timeouts and topology dump, which would cut a line mid-parenthesis."""
    text = str(error).split(", Timeout: ")[0].split(", full error: ")[0]
    text = re.sub(r"\s*\(configured timeouts: [^)]*\)", "", text).strip()
    lines = text.splitlines()
    return lines[0][:300] if lines else type(error).__name__


def connect(config, env):
    """Name the database, connect, and fail fast (one clear line) if it does not answer."""
    import pymongo.errors

    from makechat import db
    announce_database(config, env)
    db.connect(config)
    try:
        db.ensure_indexes()
    except pymongo.errors.PyMongoError as error:
        raise CommandError(f"cannot reach the database at {server_address(config.mongo_uri)} "
                           f"within {config.db_timeout:g} s: {database_error_text(error)}"
                           ) from None
