"""``makechat search-index``: give messages their search keys."""

from makechat.cli.common import connect, load


def cmd_search_index(args, env):
    from makechat.chat.search import index_words
    config = load(env)
    connect(config, env)

    def progress(count):
        print(f"  {count} messages...", file=env.stderr, flush=True)

    written = index_words(everything=args.all, progress=progress)
    what = "every message" if args.all else "messages without search keys"
    print(f"indexed {written} messages ({what})", file=env.stdout)
    return 0


def add_command(commands):
    parser = commands.add_parser(
        "search-index", help="give messages their search keys (after an upgrade or restore)",
        description="Compute the search keys of the messages that have none: those posted "
                    "before makechat had search, or restored from a backup of that time. "
                    "New and edited messages get theirs when they are posted. Safe to run "
                    "while the server runs, and again.",
        epilog="example: makechat search-index")
    parser.add_argument("--all", action="store_true",
                        help="recompute every message's keys (after the word rules changed)")
    parser.set_defaults(func=cmd_search_index)
