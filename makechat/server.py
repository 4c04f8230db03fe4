"""``makechat serve``: the app under gunicorn, in the foreground."""

import logging
import signal

from gunicorn.app.base import BaseApplication

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
        from makechat.app import create_app
        configure_logging(self.config.log_level)
        return create_app(self.config)


def serve(config):
    """Run until SIGTERM or Ctrl-C; return the exit status."""
    MakechatServer(config).run()
    return 0
