"""``makechat serve``: the app under gunicorn, in the foreground."""

import logging
import signal

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdDefault(logging.Filter):
    """Give every record the id of the request being handled (any logger,
    not only the middleware's), or '-' outside a request."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            from makechat.middleware import current_request_id
            record.request_id = current_request_id.get()
        return True


def configure_logging(level):
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RequestIdDefault())
    root = logging.getLogger("makechat")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


def write_json_error(sock, status_int, reason, mesg):
    """gunicorn's own error answer (a request line over 4094 bytes: 414,
    headers too large: 431, a malformed request: 400), as JSON with a title
    and a description like every other makechat error, instead of HTML."""
    from gunicorn import util

    from makechat.media import JSON_UTF8, dumps
    body = dumps({"title": reason, "description": _describe_gunicorn_error(status_int, mesg)})
    data = body.encode("utf-8")
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: {JSON_UTF8}\r\nContent-Length: {len(data)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + data)


def _describe_gunicorn_error(status_int, mesg):
    if status_int == 414:
        return "The request line (method, path and query string) is too long."
    if status_int == 431:
        return "The request headers are too many or too large."
    text = " ".join(str(mesg).split())[:200]
    return f"The request could not be understood: {text}." if text else \
        "The request could not be understood."


def raise_open_files_limit(needed):
    """Raise this process's soft limit on open files toward ``needed`` (each
    connection is a file), as far as the hard limit allows; return it."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


#: The gunicorn worker class for each ``worker_class`` setting.
WORKER_CLASSES = {"gevent": "makechat.workers.GeventWorker", "gthread": "gthread",
                  "sync": "sync"}


def leave_interrupts_to_the_arbiter(worker):
    """post_worker_init: a worker ignores SIGINT; the arbiter relays it.

    Ctrl-C in a terminal sends SIGINT to the whole process group, arbiter and
    workers alike, and the arbiter then sends each worker SIGQUIT too. Two
    quit signals made a worker start exiting twice, the second time inside
    the first exit's atexit callbacks ("Exception ignored in atexit callback
    ... SystemExit: 0"). Each worker now gets one, the arbiter's."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class RedactingLogger(Logger):
    """gunicorn's logger, with incoming webhooks' secrets hidden in the access
    log's request line and path."""

    def atoms(self, resp, req, environ, request_time):
        from makechat.bots.redact import redact_path
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_path(atoms[key])
        return atoms


class MakechatServer(BaseApplication):
    """A gunicorn application whose workers each build the app from the config."""

    def __init__(self, config):
        self.config = config
        super().__init__()

    def load_config(self):
        config = self.config
        settings = {
            "bind": f"[{config.host}]:{config.port}" if ":" in config.host
            else f"{config.host}:{config.port}",
            "workers": config.workers,
            "worker_class": WORKER_CLASSES.get(config.worker_class, config.worker_class),
            "worker_connections": config.worker_connections,
            "threads": config.worker_connections if config.worker_class == "gthread" else 1,
            # NOTE: a waiting GET /api/messages lasts up to max_wait; the
            # timeout must exceed it or gunicorn would kill busy sync workers.
            "timeout": int(config.max_wait) + 30,
            "graceful_timeout": int(config.max_wait) + 5,
            "keepalive": 5,
            "accesslog": "-",
            # SECURITY: incoming webhooks' URLs hold their secret: logged as ***.
            "logger_class": "makechat.server.RedactingLogger",
            "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s',
            "errorlog": "-",
            "loglevel": config.log_level,
            "proc_name": "makechat",
            "post_worker_init": leave_interrupts_to_the_arbiter,
        }
        # NOTE: gunicorn >= 25.1 opens a control socket in $HOME by default;
        # makechat does not use it, and two servers on one host would share
        # its path, so it stays closed where the setting exists.
        if "control_socket_disable" in self.cfg.settings:
            settings["control_socket_disable"] = True
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self):
        from gunicorn import util

        from makechat.app import create_app
        configure_logging(self.config.log_level)
        # NOTE: gunicorn answers requests it cannot parse (414, 431, 400)
        # itself, through this one function, before the app sees them.
        util.write_error = write_json_error
        return create_app(self.config, background=True)


def serve(config):
    """Run until SIGTERM or Ctrl-C; return the exit status."""
    # Every connection is a file: allow each worker its worker_connections
    # and some to spare, or a flood of connections ends in EMFILE.
    needed = config.worker_connections + 256
    limit = raise_open_files_limit(needed)
    if limit < needed:
        logging.getLogger("makechat").warning(
            "open files limit is %s, below worker_connections + 256 = %s; raise it "
            "(ulimit -n) or lower worker_connections", limit, needed)
    MakechatServer(config).run()
    return 0
