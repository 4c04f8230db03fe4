"""The ``makechat`` command line for admins and operators.

Each command is ``cmd_<name>(args, env) -> int``: it writes to the streams in
``env`` and returns an exit status; only ``main`` calls sys.exit. Nothing
heavy is imported at module level, so ``makechat serve`` imports neither
pymongo nor the app before gunicorn's gevent workers patch the standard
library.

One module per group of verbs, each adding its own to the parser:
``users`` (``makechat user ...``), ``bots`` (``makechat bot ...`` and
``makechat token ...``), ``serve``, ``backups`` (``backup`` and
``restore``), ``search`` (``search-index``); ``common`` holds what they
share. This module builds the parser from them and runs a command (the
``makechat`` and ``backup`` console scripts are ``main`` and
``backup_main``).
"""

import argparse
import sys

from makechat import __version__
from makechat.cli import backups, bots, search, serve, users
from makechat.cli.backups import add_backup_arguments as add_backup_arguments
from makechat.cli.backups import cmd_backup
from makechat.cli.common import CommandError as CommandError
from makechat.cli.common import Env as Env
from makechat.cli.common import database_line as database_line
from makechat.cli.common import uri_database as uri_database


def build_parser():
    """The parser of every ``makechat`` command (the docs render its help)."""
    parser = argparse.ArgumentParser(
        prog="makechat",
        description="Manage a makechat server.",
        epilog="example: makechat user create -u alice -p 's3cret-pass' -e alice@example.com")
    parser.add_argument("--version", action="version", version=f"makechat {__version__}")
    commands = parser.add_subparsers(dest="command",
                                     metavar="{user,bot,token,serve,backup,restore,search-index}")
    commands.required = True
    users.add_commands(commands)
    bots.add_commands(commands)
    serve.add_command(commands)
    backups.add_commands(commands)
    search.add_command(commands)
    return parser


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
