"""``makechat serve``: the API server in the foreground."""

from makechat.cli.common import announce_database, load


def cmd_serve(args, env):
    from makechat.server import serve
    config = load(env)
    overrides = {name: getattr(args, name) for name in
                 ("host", "port", "workers", "worker_class", "log_level")
                 if getattr(args, name) is not None}
    announce_database(config, env)
    return serve(config.replace(**overrides))


def add_command(commands):
    """Add ``serve`` to the top-level subparsers."""
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
