"""The ``makechat`` command line for admins and operators.

Each command is ``cmd_<name>(args, env) -> int``: it writes to the streams in
``env`` and returns an exit status; only ``main`` calls sys.exit. Nothing
heavy is imported at module level, so ``makechat serve`` imports neither
pymongo nor the app before gunicorn's gevent workers patch the standard
library.
"""

import argparse
import dataclasses
import os
import re
import sys
from typing import TextIO
from urllib.parse import unquote

from makechat import __version__


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


def read_password(value, env):
    """'-p -' reads the password from standard input, keeping it out of `ps`."""
    if value == "-":
        return env.stdin.readline().rstrip("\r\n")
    return value


def cmd_user_create(args, env):
    from makechat import accounts
    config = load(env)
    password = read_password(args.password, env)
    try:
        # Bad input is told before anything connects.
        accounts.check_username(args.username)
        accounts.check_email(args.email)
        accounts.check_password_rules(password)
    except accounts.AccountError as error:
        raise CommandError(str(error)) from None
    connect(config, env)
    try:
        user = accounts.create_user(args.username, args.email, password,
                                    rounds=config.bcrypt_rounds, is_superuser=args.admin)
    except accounts.AccountError as error:
        raise CommandError(str(error)) from None
    role = "admin" if user.is_superuser else "user"
    print(f"created {role} {user.username} ({user.email})", file=env.stdout)
    return 0


def cmd_user_changepass(args, env):
    from makechat import accounts
    config = load(env)
    password = read_password(args.password, env)
    try:
        accounts.check_password_rules(password)
    except accounts.AccountError as error:
        raise CommandError(str(error)) from None
    connect(config, env)
    user = find_user_or_fail(args.username)
    try:
        accounts.set_password(user, password,
                              rounds=config.bcrypt_rounds)
    except accounts.AccountError as error:
        raise CommandError(str(error)) from None
    print(f"changed the password of {user.username}; their tokens were revoked",
          file=env.stdout)
    return 0


def find_user_or_fail(username):
    from makechat import accounts
    user = accounts.find_user(username)
    if user is None:
        raise CommandError(f"no user named {username!r}")
    return user


def cmd_user_list(args, env):
    from makechat import accounts
    connect(load(env), env)
    # SECURITY: the profile fields only; never the password hash.
    rows = [(user.username, user.email, "admin" if user.is_superuser else "user",
             "active" if user.is_active else "disabled",
             user.created.strftime("%Y-%m-%d %H:%M UTC") if user.created else "-")
            for user in accounts.all_users()]
    if not rows:
        print("no users yet; create one with: makechat user create -u NAME -p PASSWORD "
              "-e EMAIL --admin", file=env.stderr)
        return 0
    rows.insert(0, ("USERNAME", "EMAIL", "ROLE", "STATUS", "CREATED"))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        # The last column (CREATED) is not padded: it has no width.
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)] + [row[4]]
        print("  ".join(cells), file=env.stdout)
    return 0


def warn_if_no_admin(env):
    from makechat import accounts
    if accounts.active_admins() == 0:
        print(f"{env.prog}: note: no enabled admin is left; make one with "
              "makechat user promote -u NAME", file=env.stderr)


def cmd_user_disable(args, env):
    from makechat import accounts
    connect(load(env), env)
    user = find_user_or_fail(args.username)
    if not user.is_active:
        print(f"{user.username} was already disabled", file=env.stdout)
        return 0
    accounts.set_active(user, False)
    print(f"disabled {user.username}; their tokens were revoked", file=env.stdout)
    warn_if_no_admin(env)
    return 0


def cmd_user_enable(args, env):
    from makechat import accounts
    connect(load(env), env)
    user = find_user_or_fail(args.username)
    if user.is_active:
        print(f"{user.username} was already enabled", file=env.stdout)
        return 0
    accounts.set_active(user, True)
    print(f"enabled {user.username}", file=env.stdout)
    return 0


def cmd_user_promote(args, env):
    from makechat import accounts
    connect(load(env), env)
    user = find_user_or_fail(args.username)
    if user.is_superuser:
        print(f"{user.username} was already an admin", file=env.stdout)
        return 0
    accounts.set_superuser(user, True)
    print(f"{user.username} is now an admin", file=env.stdout)
    return 0


def cmd_user_demote(args, env):
    from makechat import accounts
    connect(load(env), env)
    user = find_user_or_fail(args.username)
    if not user.is_superuser:
        print(f"{user.username} was not an admin", file=env.stdout)
        return 0
    accounts.set_superuser(user, False)
    print(f"{user.username} is no longer an admin", file=env.stdout)
    warn_if_no_admin(env)
    return 0


def cmd_serve(args, env):
    from makechat.server import serve
    config = load(env)
    overrides = {name: getattr(args, name) for name in
                 ("host", "port", "workers", "worker_class", "log_level")
                 if getattr(args, name) is not None}
    announce_database(config, env)
    return serve(config.replace(**overrides))


def progress_printer(stream):
    """Return a progress callback that rewrites one line on a terminal, or
    None when the stream is not one (cron mail and logs stay clean)."""
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()):
        return None

    def progress(collection, count):
        print(f"\r\033[K{collection}: {count} documents", end="", file=stream, flush=True)
    return progress


def end_progress(stream, progress):
    if progress:
        print("\r\033[K", end="", file=stream, flush=True)


def cmd_backup(args, env):
    import mongoengine
    import pymongo.errors

    from makechat import backup
    if args.keep is not None and args.keep < 1:
        raise CommandError("--keep must be at least 1")
    config = load(env)
    connect(config, env)
    directory = args.output or config.backup_dir
    progress = progress_printer(env.stderr)
    try:
        path = backup.write_backup(mongoengine.get_db(), directory, progress=progress)
        removed = backup.prune_archives(directory, args.keep) if args.keep else []
    except backup.BackupError as error:
        raise CommandError(str(error)) from None
    except pymongo.errors.PyMongoError as error:
        raise CommandError(f"backup failed, no archive written: "
                           f"{str(error).splitlines()[0][:300]}") from None
    finally:
        end_progress(env.stderr, progress)
    for old in removed:
        print(f"removed {old}", file=env.stderr)
    print(path, file=env.stdout)
    return 0


def cmd_restore(args, env):
    import mongoengine
    import pymongo.errors

    from makechat import backup, db
    config = load(env)
    # Check the whole archive before connecting: connect() ensures makechat's
    # indexes, which creates its collections, and a refused archive must
    # leave the database as it was, even an empty one.
    try:
        archive = backup.read_archive(args.archive)
    except backup.BackupError as error:
        raise CommandError(str(error)) from None
    connect(config, env)
    progress = progress_printer(env.stderr)
    try:
        restored = backup.restore_backup(mongoengine.get_db(), archive, drop=args.drop,
                                         progress=progress)
    except backup.BackupError as error:
        raise CommandError(str(error)) from None
    finally:
        end_progress(env.stderr, progress)
    try:
        db.ensure_indexes()
    except pymongo.errors.PyMongoError as error:
        raise CommandError(f"restored, but makechat's indexes could not be created: "
                           f"{str(error).splitlines()[0][:300]}") from None
    if archive.skipped:
        print(f"skipped {len(archive.skipped)} collection(s) that are not makechat's: "
              f"{', '.join(archive.skipped)}", file=env.stderr)
    total = sum(restored.values())
    print(f"restored {total} documents in {len(restored)} collections from {args.archive}",
          file=env.stdout)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="makechat",
        description="Manage a makechat server.",
        epilog="example: makechat user create -u alice -p 's3cret-pass' -e alice@example.com")
    parser.add_argument("--version", action="version", version=f"makechat {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{user,serve,backup,restore}")
    commands.required = True

    user = commands.add_parser("user", help="manage user accounts",
                               description="Manage user accounts.",
                               formatter_class=argparse.RawDescriptionHelpFormatter,
                               epilog="examples:\n"
                                      "  makechat user create -u alice -p 's3cret-pass' "
                                      "-e alice@example.com\n"
                                      "  makechat user list\n"
                                      "  makechat user disable -u alice")
    user_commands = user.add_subparsers(dest="action")
    user_commands.required = True

    create = user_commands.add_parser(
        "create", help="create a new user",
        epilog="example: makechat user create -u admin -p admin_pass "
               "-e admin@example.com -admin   (-p - reads the password from stdin)")
    create.add_argument("-u", dest="username", metavar="USERNAME", required=True,
                        help="specify username")
    create.add_argument("-p", dest="password", metavar="PASSWORD", required=True,
                        help="specify password")
    create.add_argument("-e", dest="email", metavar="EMAIL", required=True,
                        help="specify email address")
    # NOTE: -admin is the manual's spelling; --admin is what people type.
    create.add_argument("-admin", "--admin", dest="admin", action="store_true",
                        help="is superuser?")
    create.set_defaults(func=cmd_user_create)

    changepass = user_commands.add_parser(
        "changepass", help="change user password",
        epilog="example: makechat user changepass -u alice -p 'n3w-s3cret-pass'")
    changepass.add_argument("-u", dest="username", metavar="USERNAME", required=True,
                            help="specify username")
    changepass.add_argument("-p", dest="password", metavar="NEW_PASSWORD", required=True,
                            help="specify new password")
    changepass.set_defaults(func=cmd_user_changepass)

    listing = user_commands.add_parser(
        "list", help="list every account (never a password hash)",
        epilog="example: makechat user list")
    listing.set_defaults(func=cmd_user_list)

    for name, func, summary, example in (
            ("disable", cmd_user_disable, "disable an account and revoke its tokens", "alice"),
            ("enable", cmd_user_enable, "enable a disabled account", "alice"),
            ("promote", cmd_user_promote, "make an account an admin", "alice"),
            ("demote", cmd_user_demote, "make an admin a plain user again", "alice")):
        action = user_commands.add_parser(name, help=summary,
                                          epilog=f"example: makechat user {name} -u {example}")
        action.add_argument("-u", dest="username", metavar="USERNAME", required=True,
                            help="specify username")
        action.set_defaults(func=func)

    serve = commands.add_parser("serve", help="run the API server (gunicorn) in the foreground",
                                epilog="example: makechat serve --host 0.0.0.0 --port 8080")
    serve.add_argument("--host", help="address to listen on (config: host)")
    serve.add_argument("--port", type=int, help="port to listen on (config: port)")
    serve.add_argument("--workers", type=int, help="worker processes (config: workers)")
    serve.add_argument("--worker-class", dest="worker_class",
                       choices=("gevent", "gthread", "sync"),
                       help="gunicorn worker class (config: worker_class)")
    serve.add_argument("--log-level", dest="log_level",
                       choices=("debug", "info", "warning", "error"),
                       help="log level (config: log_level)")
    serve.set_defaults(func=cmd_serve)

    backup = commands.add_parser("backup", help="write a backup archive of the database",
                                 epilog="example: makechat backup -o /backups --keep 7")
    add_backup_arguments(backup)
    backup.set_defaults(func=cmd_backup)

    restore = commands.add_parser("restore", help="restore a backup archive",
                                  epilog="example: makechat restore "
                                         "/backups/makechat-20260101-120000.tar.gz --drop")
    restore.add_argument("archive", metavar="ARCHIVE",
                         help="the .tar.gz written by backup, a mongodump folder packed with "
                              "tar czf, or a mongodump --archive file")
    restore.add_argument("--drop", action="store_true",
                         help="empty each collection before restoring it")
    restore.set_defaults(func=cmd_restore)
    return parser


def add_backup_arguments(parser):
    parser.add_argument("-o", dest="output", metavar="DIR",
                        help="folder to write the archive into (config: backup_dir)")
    parser.add_argument("--keep", type=int, metavar="N",
                        help="then delete all but the newest N archives in DIR")


def run(argv, env):
    """Parse and run one command; return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args, env)
    except CommandError as error:
        print(f"makechat: error: {error}", file=env.stderr)
        return 1
    except KeyboardInterrupt:
        print("makechat: interrupted", file=env.stderr)
        return 130


def main(argv=None):
    sys.exit(run(sys.argv[1:] if argv is None else argv, Env()))


def backup_main(argv=None):
    """The plain ``backup`` command: ``makechat backup`` under the manual's name."""
    parser = argparse.ArgumentParser(prog="backup", description="Write a makechat backup archive.",
                                     epilog="example: backup -o /backups --keep 7")
    add_backup_arguments(parser)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    env = Env(prog="backup")
    try:
        sys.exit(cmd_backup(args, env))
    except CommandError as error:
        print(f"backup: error: {error}", file=env.stderr)
        sys.exit(1)
