"""``makechat user ...``: creating accounts and changing them."""

import argparse

from makechat.cli.common import CommandError, connect, load


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


def add_commands(commands):
    """Add ``user`` and its actions to the top-level subparsers."""
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
