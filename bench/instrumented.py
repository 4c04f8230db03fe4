"""Run ``makechat serve`` as installed, counting its database commands.

    python bench/instrumented.py COUNTS_FOLDER serve --port 8080 ...

makechat's own command line runs with the arguments after the folder, so
the server, its gunicorn settings and its workers are those of ``makechat
serve``. One thing is added, in each worker, just before it builds the app
(after gevent patched the standard library, as makechat requires): the
listener of bench/commands.py. No file of makechat is changed.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import commands  # noqa: E402


def instrument(server_class, folder):
    """Make the gunicorn application's load() (run in each worker) register
    the command counter first."""
    load = server_class.load

    def counted_load(self):
        commands.install(folder)
        return load(self)

    server_class.load = counted_load


if __name__ == "__main__":
    from makechat import server
    instrument(server.MakechatServer, sys.argv[1])
    from makechat.cli import main
    main(sys.argv[2:])
