"""gunicorn's gevent worker, made to quit once, while it still runs.

``makechat serve`` uses it for ``worker_class = gevent``. gunicorn loads it
by name, in the arbiter and the workers, as it loads its own.
"""

import sys

import gevent
from gunicorn.workers.ggevent import GeventWorker as GunicornGeventWorker


class GeventWorker(GunicornGeventWorker):
    """On SIGQUIT (a quick stop) gunicorn's gevent worker spawns a greenlet
    that sets ``alive = False``, sleeps 0.1 s and calls sys.exit(0), which
    gevent hands to the main greenlet. But the main loop checks ``alive``
    every second: about one time in ten it sees it first, returns, and the
    process is already exiting, in pymongo's atexit callbacks (which wait for
    its monitor threads, so greenlets switch), when that sys.exit lands:
    "Exception ignored in atexit callback ... SystemExit: 0", some 30 lines
    per worker. Here the greenlet exits only if the worker still runs;
    otherwise the worker is on its way out already."""

    _running = False

    def run(self):
        self._running = True
        try:
            super().run()
        finally:
            self._running = False

    def handle_exit(self, sig, frame):
        """SIGTERM (a graceful stop): gunicorn waits up to graceful_timeout for
        open connections, and an event stream never ends by itself; ending
        them (and answering waiting requests) lets the worker go at once. The
        clients reconnect, with their last id, to a worker that runs."""
        super().handle_exit(sig, frame)
        from makechat.chat.watcher import close_all
        gevent.spawn(close_all)

    def handle_quit(self, sig, frame):
        # NOTE: out of the signal handler, as gunicorn does, so that the
        # worker_int hook may block.
        gevent.spawn(self._quit)

    def _quit(self):
        self.alive = False
        self.cfg.worker_int(self)
        gevent.sleep(0.1)
        if self._running:
            sys.exit(0)
