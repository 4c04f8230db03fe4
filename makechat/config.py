"""Configuration: one ``Config`` built from ``makechat.conf`` and ``MAKECHAT_*``.

Every key lives in ``SETTINGS`` with its type, default and meaning; the
example file, the docs and the environment overrides are all derived from
this table, so a key cannot exist in one place and be missing in another.
"""

import configparser
import dataclasses
import os
import textwrap
from pathlib import Path

SECTION = "makechat"
ENV_PREFIX = "MAKECHAT_"


@dataclasses.dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: object
    help: str


def _bool(value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


SETTINGS = (
    Setting("mongo_uri", str, "mongodb://localhost:27017/makechat",
            "MongoDB connection string; the database name is taken from its path."),
    Setting("db_timeout", float, 5.0,
            "Seconds to wait for the database before a request fails with 503."),
    Setting("registration", str, "open",
            "'open' lets anyone create an account with POST /api/register; "
            "'closed' leaves account creation to admins."),
    Setting("bcrypt_rounds", int, 12,
            "bcrypt cost factor for password hashes (4-31; each step doubles the work)."),
    Setting("max_body", int, 65536,
            "Largest request body accepted, in bytes; larger bodies get 413."),
    Setting("max_message_length", int, 4000,
            "Longest message text, in characters."),
    Setting("login_window", int, 900,
            "Seconds over which failed logins are counted."),
    Setting("login_max_failures_per_user", int, 10,
            "Failed logins for one username within login_window before 429."),
    Setting("login_max_failures_per_address", int, 100,
            "Failed logins from one client address within login_window before 429."),
    Setting("trusted_proxies", str, "",
            "Comma-separated addresses or networks of reverse proxies whose "
            "X-Forwarded-For header is believed (for per-address login limits)."),
    Setting("poll_interval", float, 0.25,
            "Seconds between the database polls that wake waiting message requests."),
    Setting("max_wait", float, 30.0,
            "Longest 'wait' a client may ask for on GET /api/messages, in seconds."),
    Setting("gap_timeout", float, 5.0,
            "Seconds a message sequence number may stay allocated but unwritten (a "
            "writer died mid-post) before readers skip it; the writer, if alive, "
            "then posts under a new number, so nothing is lost."),
    Setting("backup_dir", str, "~/makechat-backups",
            "Where 'makechat backup' writes archives when -o is not given."),
    Setting("host", str, "127.0.0.1", "Address 'makechat serve' listens on."),
    Setting("port", int, 8080, "Port 'makechat serve' listens on."),
    Setting("workers", int, 2, "Worker processes of 'makechat serve'."),
    Setting("worker_class", str, "gevent",
            "gunicorn worker class: 'gevent' (many waiting clients) or 'gthread'."),
    Setting("worker_connections", int, 1000,
            "Simultaneous connections per gevent worker (or threads per gthread worker)."),
    Setting("log_level", str, "info", "Log level: debug, info, warning, error."),
    Setting("web_root", str, "",
            "Folder of the web client served at / by 'makechat serve'; "
            "empty means the copy bundled with the package."),
    Setting("docs_root", str, "",
            "Folder of the built HTML documentation served at /docs/ by 'makechat serve'; "
            "empty means docs/_build/html of the source checkout, once 'make docs' "
            "has built it."),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


class ConfigError(Exception):
    """A configuration file or variable holds a value makechat cannot use."""


@dataclasses.dataclass(frozen=True)
class Config:
    mongo_uri: str = "mongodb://localhost:27017/makechat"
    db_timeout: float = 5.0
    registration: str = "open"
    bcrypt_rounds: int = 12
    max_body: int = 65536
    max_message_length: int = 4000
    login_window: int = 900
    login_max_failures_per_user: int = 10
    login_max_failures_per_address: int = 100
    trusted_proxies: str = ""
    poll_interval: float = 0.25
    max_wait: float = 30.0
    gap_timeout: float = 5.0
    backup_dir: str = "~/makechat-backups"
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    worker_class: str = "gevent"
    worker_connections: int = 1000
    log_level: str = "info"
    web_root: str = ""
    docs_root: str = ""
    source: str = ""

    def __post_init__(self):
        if self.registration not in ("open", "closed"):
            raise ConfigError("registration must be 'open' or 'closed', "
                              f"not {self.registration!r}")
        if not 4 <= self.bcrypt_rounds <= 31:
            raise ConfigError("bcrypt_rounds must be between 4 and 31")
        for name in ("max_body", "max_message_length", "login_window", "workers",
                     "worker_connections", "login_max_failures_per_user",
                     "login_max_failures_per_address"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive number")
        for name in ("db_timeout", "poll_interval", "max_wait", "gap_timeout"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be greater than zero")

    def replace(self, **changes):
        """Return a copy with some settings changed (tests use this)."""
        return dataclasses.replace(self, **changes)

    @property
    def registration_open(self):
        return self.registration == "open"


def _convert(setting, raw, where):
    try:
        if setting.type is bool:
            return _bool(raw)
        return setting.type(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{where}: {setting.name} must be {setting.type.__name__}, "
                          f"not {raw!r}") from None


def config_path(environ=None):
    """Return the config file to read: $MAKECHAT_CONFIG, ~/makechat.conf, /etc/makechat/."""
    environ = os.environ if environ is None else environ
    if environ.get("MAKECHAT_CONFIG"):
        return Path(environ["MAKECHAT_CONFIG"]).expanduser()
    for candidate in (Path.home() / "makechat.conf", Path("/etc/makechat/makechat.conf")):
        if candidate.is_file():
            return candidate
    return None


def load_config(environ=None, path=None):
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


def example_config():
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
