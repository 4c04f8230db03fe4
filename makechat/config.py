"""Configuration: one ``Config`` built from ``makechat.conf`` and ``MAKECHAT_*``.

Every key is declared once, as a field of ``Config`` with its type, default
and meaning; ``SETTINGS``, the example file, the docs and the environment
overrides are all derived from those fields, so a key cannot exist in one
place and be missing in another.

NOTE: long because every setting is declared here, by design: one place.
"""

import configparser
import dataclasses
import os
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

SECTION = "makechat"
ENV_PREFIX = "MAKECHAT_"


@dataclasses.dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: object
    help: str


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def setting(default: Any, help: str, *, choices: tuple[str, ...] | None = None,  # noqa: A002
            minimum: float | None = None, maximum: float | None = None) -> Any:
    """Declare a setting: its default, what it means, and the values it takes
    (its type is the field's annotation; a number must be positive unless a
    range is given)."""
    return dataclasses.field(default=default, metadata={
        "help": help, "choices": choices, "minimum": minimum, "maximum": maximum})


class ConfigError(Exception):
    """A configuration file or variable holds a value makechat cannot use."""


@dataclasses.dataclass(frozen=True)
class Config:
    """Every setting, declared once: name, type, default and meaning. SETTINGS,
    makechat.conf.example, the docs' table and the MAKECHAT_* overrides are
    all derived from these fields."""

    mongo_uri: str = setting(
        "mongodb://localhost:27017/makechat",
        "MongoDB connection string; the database name is taken from its path.")
    db_timeout: float = setting(
        5.0,
        "Seconds to wait for the database before a request fails with 503.")
    registration: str = setting(
        "open",
        "'open' lets anyone create an account with POST /api/register; 'closed' "
        "leaves account creation to admins.", choices=("open", "closed"))
    bcrypt_rounds: int = setting(
        12,
        "bcrypt cost factor for password hashes (4-31; each step doubles the work).",
        minimum=4, maximum=31)
    max_body: int = setting(
        65536,
        "Largest request body accepted, in bytes; larger bodies get 413.")
    body_timeout: float = setting(
        15.0,
        "Seconds a client has to send a whole request body once its headers "
        "arrived; a slower body gets 408 and its connection is closed.")
    max_body_reads_per_address: int = setting(
        50,
        "Request bodies one client address may be sending to one worker process at "
        "the same time; more get 429 at once (slow senders cannot take every "
        "connection).")
    max_json_depth: int = setting(
        32,
        "Deepest nesting of arrays and objects accepted in a JSON body; deeper "
        "bodies get 400.")
    max_message_length: int = setting(
        4000,
        "Longest message text, in characters.")
    allow_dms: bool = setting(
        True,
        "Whether users may start direct conversations (POST /api/dms); 'false' "
        "refuses new ones with 403, and those that exist stay readable.")
    max_dm_users: int = setting(
        8,
        "The most people in one direct conversation, its starter included.",
        minimum=2, maximum=100)
    mention_room_max_members: int = setting(
        20,
        "In a room of more than this many members only its owners (and admins) "
        "may mention @room (everyone); 0: owners only, in every room.",
        minimum=0, maximum=1000000)
    max_reactions_per_user: int = setting(
        20,
        "The most different emoji one user may put on one message; one more is 409.",
        minimum=1, maximum=1000)
    search_max_query_length: int = setting(
        200,
        "Longest search query (GET /api/search?q=), in characters.",
        minimum=1, maximum=10000)
    search_rate_limit: int = setting(
        30,
        "Searches (GET /api/search) one token may make per post_rate_window; more get "
        "429 with Retry-After. On FerretDB each search reads the whole message "
        "collection. 0: no limit.", minimum=0, maximum=1000000)
    search_max_words: int = setting(
        16,
        "The most search keys one query may hold (a word each; Chinese and Japanese "
        "one per pair of characters); more is 400. Each costs the database an index "
        "lookup.",
        minimum=1, maximum=100)
    login_window: int = setting(
        900,
        "Seconds over which failed logins are counted.")
    login_max_failures_per_user_address: int = setting(
        10,
        "Failed logins for one username from one client address within login_window "
        "before that address gets 429 for that username.")
    login_max_failures_per_user: int = setting(
        50,
        "Failed logins for one username from all addresses within login_window "
        "before 429 for addresses it never logged in from (its known addresses keep "
        "working, so others' guesses cannot lock the owner out).")
    login_max_failures_per_address: int = setting(
        100,
        "Failed logins from one client address within login_window before 429.")
    login_known_address_days: int = setting(
        90,
        "Days a client address stays known for a user after a successful login.")
    register_max_per_address: int = setting(
        20,
        "Registrations (POST /api/register) from one client address within "
        "register_window before 429.")
    register_window: int = setting(
        3600,
        "Seconds over which registrations are counted.")
    max_tokens_per_user: int = setting(
        100,
        "API tokens one user may hold at once (logins count); beyond it 409.")
    trusted_proxies: str = setting(
        "",
        "Comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For header is believed (for per-address login limits).")
    poll_interval: float = setting(
        0.25,
        "Seconds between the database polls that wake waiting message requests.")
    max_wait: float = setting(
        30.0,
        "Longest 'wait' a client may ask for on GET /api/messages, in seconds.")
    max_waiting_per_user: int = setting(
        20,
        "Waiting requests (?wait=) one user may hold open in one worker process; "
        "more get 429 with Retry-After.")
    stream_heartbeat: float = setting(
        15.0,
        "Seconds between the keepalive comments of an idle event stream (GET "
        "/api/events as Server-Sent Events), so proxies keep it open.")
    gap_timeout: float = setting(
        5.0,
        "Seconds a message sequence number may stay allocated but unwritten (a "
        "writer died mid-post) before readers skip it; the writer, if alive, then "
        "posts under a new number, so nothing is lost.")
    embedded_max_messages: int = setting(
        5000,
        "On FerretDB (the embedded database of 'make run' and the tests), the number of "
        "stored messages and events past which makechat logs a warning at start: "
        "FerretDB reads the whole collection for every query, so reading a room takes "
        "about 0.5 to 1 s at 5,000 on a 2-core machine (measured by make bench, see the "
        "performance docs); move to MongoDB before then.")
    post_rate_limit: int = setting(
        300,
        "Messages one token (or one incoming webhook's bot, see "
        "incoming_webhook_rate_limit) may post per post_rate_window; more get 429 with "
        "Retry-After. Every post's answer says what is left in RateLimit-* headers. "
        "0: no limit.", minimum=0, maximum=1000000)
    post_rate_window: int = setting(
        60,
        "Seconds of the windows over which posts are counted for post_rate_limit and "
        "incoming_webhook_rate_limit.", minimum=1, maximum=86400)
    incoming_webhook_rate_limit: int = setting(
        60,
        "Messages one incoming webhook may post per post_rate_window; more get 429. "
        "0: no limit.", minimum=0, maximum=1000000)
    max_webhooks_per_room: int = setting(
        20,
        "Incoming and outgoing webhooks one room may have, of each kind; more get 409.")
    webhook_key: str = setting(
        "",
        "Secret text (long and random) from which the signing secret of every outgoing "
        "webhook is derived, so the database holds none. Empty: a key made once and kept "
        "in the database is used (a copy of the database then suffices to sign); set it "
        "in production. Changing it changes every webhook's signing secret.")
    webhooks_allow_http: bool = setting(
        False,
        "Allow outgoing webhooks to plain http:// URLs (else https:// only).")
    webhooks_allow_private: bool = setting(
        False,
        "Allow outgoing webhooks to loopback, private, link-local and other non-public "
        "addresses (a bot on this host or this network). Checked when a webhook is "
        "registered and again before every delivery.")
    webhook_timeout: float = setting(
        10.0,
        "Seconds an outgoing webhook's receiver has to connect and to answer each read; "
        "slower counts as a failed attempt.")
    webhook_retry_base: float = setting(
        5.0,
        "Seconds before the first retry of a failed delivery; each later retry waits "
        "twice as long (with random jitter), up to webhook_retry_max.")
    webhook_retry_max: float = setting(
        3600.0,
        "Longest wait between two attempts at one delivery, in seconds.")
    webhook_give_up_after: float = setting(
        259200.0,
        "Seconds after which a delivery that never succeeded is given up (dead-lettered: "
        "listed with its attempts, resent only by a replay). 259200 is three days.")
    webhook_delivery: bool = setting(
        True,
        "Deliver outgoing webhooks from this server's processes. Set false on servers "
        "that should only answer requests, if others deliver (the outbox is in the "
        "database: any number of servers share it safely).")
    webhook_poll_interval: float = setting(
        0.5,
        "Seconds between the outbox's looks for new events and due deliveries, in every "
        "server process.")
    webhook_concurrency: int = setting(
        8,
        "Deliveries one server process makes at the same time.", minimum=1, maximum=256)
    webhook_replay_max: int = setting(
        1000,
        "Most events one replay (POST .../replay?from_seq=N) queues again; replay again "
        "from where it stopped for more.")
    backup_dir: str = setting(
        "~/makechat-backups",
        "Where 'makechat backup' writes archives when -o is not given.")
    host: str = setting(
        "127.0.0.1",
        "Address 'makechat serve' listens on.")
    port: int = setting(
        8080,
        "Port 'makechat serve' listens on.", minimum=1, maximum=65535)
    workers: int = setting(
        2,
        "Worker processes of 'makechat serve'.")
    worker_class: str = setting(
        "gevent",
        "gunicorn worker class: 'gevent' (many waiting clients) or 'gthread'.",
        choices=("gevent", "gthread", "sync"))
    worker_connections: int = setting(
        1000,
        "Simultaneous connections per gevent worker (or threads per gthread "
        "worker).")
    log_level: str = setting(
        "info",
        "Log level: debug, info, warning, error.",
        choices=("debug", "info", "warning", "error"))
    web_root: str = setting(
        "",
        "Folder of the web client served at / by 'makechat serve'; empty means the "
        "copy bundled with the package.")
    docs_root: str = setting(
        "",
        "Folder of the built HTML documentation served at /docs/ by 'makechat serve'; "
        "empty means docs/_build/html of the source checkout, once 'make docs' has "
        "built it.")
    #: Where the settings came from (the file read), for messages; not a setting.
    source: str = ""

    def __post_init__(self):
        for field in dataclasses.fields(self):
            rules, value = field.metadata, getattr(self, field.name)
            if rules.get("choices") and value not in rules["choices"]:
                choices = " or ".join(repr(choice) for choice in rules["choices"])
                raise ConfigError(f"{field.name} must be {choices}, not {value!r}")
            if field.type not in (int, float):
                continue
            low, high = rules.get("minimum"), rules.get("maximum")
            if low is not None or high is not None:
                if not low <= value <= high:
                    raise ConfigError(f"{field.name} must be between {low} and {high}")
            elif value <= 0:
                raise ConfigError(f"{field.name} must be greater than zero")

    def replace(self, **changes: Any) -> "Config":
        """Return a copy with some settings changed (tests use this)."""
        return dataclasses.replace(self, **changes)

    @property
    def registration_open(self) -> bool:
        return self.registration == "open"


#: Every setting as (name, type, default, help), in declaration order.
# NOTE: field.type is the class itself (this module does not postpone its
# annotations), which the cast tells mypy.
SETTINGS = tuple(Setting(field.name, cast(type, field.type), field.default,
                         field.metadata["help"])
                 for field in dataclasses.fields(Config) if "help" in field.metadata)
_BY_NAME = {setting.name: setting for setting in SETTINGS}


def _convert(setting: Setting, raw: object, where: str) -> Any:
    try:
        if setting.type is bool:
            return _bool(raw)
        return setting.type(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{where}: {setting.name} must be {setting.type.__name__}, "
                          f"not {raw!r}") from None


def config_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """Return the config file to read: $MAKECHAT_CONFIG, ~/makechat.conf, /etc/makechat/."""
    environ = os.environ if environ is None else environ
    if environ.get("MAKECHAT_CONFIG"):
        return Path(environ["MAKECHAT_CONFIG"]).expanduser()
    for candidate in (Path.home() / "makechat.conf", Path("/etc/makechat/makechat.conf")):
        if candidate.is_file():
            return candidate
    return None


def load_config(environ: Mapping[str, str] | None = None,
                path: str | os.PathLike[str] | None = None) -> Config:
    """Build the Config from the INI file (if any), then MAKECHAT_* variables."""
    environ = os.environ if environ is None else environ
    path = Path(path) if path else config_path(environ)
    values = {}
    source = ""
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path, encoding="utf-8")
        except configparser.Error as error:
            raise ConfigError(f"{path}: {error}") from None
        if parser.has_section(SECTION):
            for key, raw in parser.items(SECTION):
                if key not in _BY_NAME:
                    raise ConfigError(f"{path}: unknown key {key!r} in [{SECTION}]")
                values[key] = _convert(_BY_NAME[key], raw, str(path))
        source = str(path)
    for setting in SETTINGS:
        variable = ENV_PREFIX + setting.name.upper()
        if variable in environ:
            values[setting.name] = _convert(setting, environ[variable], variable)
    return Config(source=source, **values)


def example_config() -> str:
    """Return the text of makechat.conf.example, every key with its default."""
    lines = [
        "# makechat configuration. Copy to ~/makechat.conf or /etc/makechat/makechat.conf,",
        "# or point MAKECHAT_CONFIG at it. Every key may also be set by an environment",
        "# variable named MAKECHAT_<KEY>, which wins over this file.",
        "# The values shown are the defaults. (This file is generated from",
        "# makechat/config.py; tests/test_config.py keeps the two in step.)",
        "",
        f"[{SECTION}]",
    ]
    for setting in SETTINGS:
        lines.append("")
        text = f"{setting.help} Environment: {ENV_PREFIX}{setting.name.upper()}."
        lines.extend(textwrap.wrap(text, 78, initial_indent="# ", subsequent_indent="# "))
        lines.append(f"{setting.name} = {setting.default}")
    return "\n".join(lines) + "\n"
