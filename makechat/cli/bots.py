"""``makechat bot ...`` and ``makechat token ...``: bot accounts, and
tokens with scopes for admins' scripts and bots."""

import argparse
import re

from makechat.cli.common import CommandError, connect, load
from makechat.cli.users import find_user_or_fail

#: --expires: a number and a unit (s, m, h, d, w).
DURATION = re.compile(r"^([0-9]{1,6})([smhdw])$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text):
    """'90d' -> seconds; CommandError for anything else."""
    match = DURATION.match(text.strip().lower())
    if not match:
        raise CommandError(f"--expires takes a number and a unit (s, m, h, d, w), like 90d, "
                           f"not {text!r}")
    return int(match.group(1)) * UNITS[match.group(2)]


def cmd_bot_create(args, env):
    from makechat import accounts
    from makechat.bots.accounts import create_bot
    config = load(env)
    try:
        accounts.check_username(args.name)
    except accounts.AccountError as error:
        raise CommandError(str(error)) from None
    connect(config, env)
    owner = find_user_or_fail(args.owner) if args.owner else None
    try:
        bot = create_bot(args.name, owner)
    except accounts.AccountError as error:
        raise CommandError(str(error)) from None
    owned = f", owned by {owner.username}" if owner else ""
    print(f"created bot {bot.username}{owned}; make it a token with: makechat token create "
          f"--user {bot.username} --scope messages:write", file=env.stdout)
    return 0


def cmd_bot_list(args, env):
    from makechat.models import User
    connect(load(env), env)
    bots = list(User.objects(is_bot=True).order_by("username_key"))
    if not bots:
        print("no bots yet; create one with: makechat bot create NAME", file=env.stderr)
        return 0
    owners = {user.id: user.username for user in
              User.objects(id__in=[bot.bot_owner for bot in bots if bot.bot_owner])}
    for bot in bots:
        state = "active" if bot.is_active else "disabled"
        print(f"{bot.username}  {owners.get(bot.bot_owner, '-')}  {state}", file=env.stdout)
    return 0


def _room_ids(names):
    from makechat.ids import parse_id
    from makechat.models import Room
    from makechat.names import skeleton
    found = []
    for name in names:
        room = Room.objects(id=parse_id(name)).first() if parse_id(name) else None
        room = room or Room.objects(name_key=skeleton(name)).first()
        if room is None:
            raise CommandError(f"no room named {name!r}")
        found.append(room.id)
    return found


def cmd_token_create(args, env):
    from makechat.bots.accounts import grant_token
    from makechat.exceptions import MakechatError
    config = load(env)
    expires = parse_duration(args.expires) if args.expires else None
    connect(config, env)
    user = find_user_or_fail(args.user)
    if not user.is_active:
        raise CommandError(f"{user.username} is disabled")
    rooms = _room_ids(args.rooms) if args.rooms else None
    try:
        token, secret = grant_token(None, user, args.name, max_tokens=config.max_tokens_per_user,
                                    scopes=args.scopes, rooms=rooms, expires_in=expires)
    except MakechatError as error:
        raise CommandError(error.description) from None
    scopes = ", ".join(token.scopes) if token.scopes else "every scope"
    where = f"{len(token.rooms)} room(s)" if token.rooms else "every room"
    until = token.expires.strftime("%Y-%m-%d %H:%M UTC") if token.expires else "revoked"
    # NOTE: the secret alone on stdout, for scripts; the rest on stderr.
    print(f"{env.prog}: token {token.name!r} for {user.username}: {scopes}, in {where}, "
          f"until {until}", file=env.stderr)
    print(secret, file=env.stdout)
    return 0


def cmd_token_list(args, env):
    from makechat.models import Token
    connect(load(env), env)
    user = find_user_or_fail(args.user)
    for token in Token.objects(owner=user.id).order_by("created"):
        scopes = ",".join(token.scopes) if token.scopes else "*"
        rooms = str(len(token.rooms)) if token.rooms else "*"
        used = token.last_used.strftime("%Y-%m-%d %H:%M") if token.last_used else "never"
        until = token.expires.strftime("%Y-%m-%d %H:%M") if token.expires else "-"
        print(f"{token.id}  {token.name}  scopes={scopes}  rooms={rooms}  used={used}  "
              f"expires={until}", file=env.stdout)
    return 0


def add_commands(commands):
    """Add ``bot`` and ``token`` to the top-level subparsers."""
    bot = commands.add_parser("bot", help="manage bot accounts",
                              description="Manage bot accounts: users that act only "
                                          "through tokens.",
                              epilog="example: makechat bot create ci-bot --owner alice")
    bot_commands = bot.add_subparsers(dest="action")
    bot_commands.required = True
    create = bot_commands.add_parser(
        "create", help="create a bot account (it cannot log in with a password)",
        epilog="example: makechat bot create ci-bot --owner alice")
    create.add_argument("name", metavar="NAME", help="the bot's username")
    create.add_argument("--owner", metavar="USER",
                        help="a user who manages the bot (its tokens, its webhooks)")
    create.set_defaults(func=cmd_bot_create)
    listing = bot_commands.add_parser("list", help="list the bots and their owners",
                                      epilog="example: makechat bot list")
    listing.set_defaults(func=cmd_bot_list)

    token = commands.add_parser(
        "token", help="make and list API tokens", description="API tokens for admins' "
        "scripts and bots, optionally limited to scopes and rooms, and expiring.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example: makechat token create --user ci-bot --scope messages:write "
               "--room builds --expires 90d")
    token_commands = token.add_subparsers(dest="action")
    token_commands.required = True
    make = token_commands.add_parser(
        "create", help="make a token; prints its secret (once)",
        epilog="example: makechat token create --user ci-bot --scope messages:write "
               "--scope messages:read --room builds --expires 90d")
    make.add_argument("--user", required=True, metavar="USER", help="whose token (a bot, or "
                      "an admin for a script)")
    make.add_argument("--scope", dest="scopes", action="append", metavar="SCOPE",
                      help="what it may do (repeat; without: everything): messages:read, "
                           "messages:write, rooms:read, rooms:write, account, admin")
    make.add_argument("--room", dest="rooms", action="append", metavar="ROOM",
                      help="a room (name or id) it is limited to (repeat; without: every room)")
    make.add_argument("--expires", metavar="DURATION",
                      help="lifetime, like 3600s, 12h, 90d or 8w (without: until revoked)")
    make.add_argument("--name", default="cli", help="the token's name (default: cli)")
    make.set_defaults(func=cmd_token_create)
    listing = token_commands.add_parser("list", help="list a user's tokens (never a secret)",
                                        epilog="example: makechat token list --user ci-bot")
    listing.add_argument("--user", required=True, metavar="USER", help="whose tokens")
    listing.set_defaults(func=cmd_token_list)
