"""``makechat backup`` (also the plain ``backup`` command) and ``makechat restore``."""

from makechat.cli.common import CommandError, connect, load


def add_backup_arguments(parser):
    parser.add_argument("-o", dest="output", metavar="DIR",
                        help="folder to write the archive into (config: backup_dir)")
    parser.add_argument("--keep", type=int, metavar="N",
                        help="then delete all but the newest N archives in DIR")


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


def add_commands(commands):
    """Add ``backup`` and ``restore`` to the top-level subparsers."""
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
