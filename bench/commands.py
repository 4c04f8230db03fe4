"""Count the database commands a server process sends, without changing it.

``install(folder)`` registers a ``pymongo.monitoring.CommandListener`` for
every MongoClient created afterwards (so it must run before the app builds
its client). Each process that sends commands (each gunicorn worker: the
listener is inherited across fork) counts them in a small memory-mapped file
``<folder>/<pid>.commands``: one native int64 per command name in
NAMES. The benchmark reads the files while the server runs (``read``); a
count is one increment in shared memory, cheap next to a round trip.
"""

import ctypes
import mmap
import os
import struct
from pathlib import Path

NAMES = ("find", "insert", "update", "delete", "findAndModify", "aggregate", "count",
         "getMore", "other")
INDEX = {name: number for number, name in enumerate(NAMES)}
OTHER = INDEX["other"]
#: After the counts by name: how many commands finished (succeeded or
#: failed), so that started - finished is the number still in flight.
DONE = len(NAMES)
SIZE = 8 * (len(NAMES) + 1)


class _Counter:
    def __init__(self, folder):
        self.folder = Path(folder)
        self.pid = None
        self.map = None

    def _open(self):
        path = self.folder / f"{os.getpid()}.commands"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        os.ftruncate(fd, SIZE)
        self.map = mmap.mmap(fd, SIZE)
        os.close(fd)
        self.counts = (ctypes.c_int64 * (len(NAMES) + 1)).from_buffer(self.map)
        self.pid = os.getpid()

    def count(self, name):
        if self.pid != os.getpid():
            self._open()  # first command in this process (a forked worker)
        self.counts[INDEX.get(name, OTHER)] += 1

    def finish(self):
        if self.pid == os.getpid():
            self.counts[DONE] += 1


def install(folder):
    """Count every command of every MongoClient created from now on."""
    from pymongo import monitoring

    Path(folder).mkdir(parents=True, exist_ok=True)
    counter = _Counter(folder)

    class Listener(monitoring.CommandListener):
        def started(self, event):
            counter.count(event.command_name)

        def succeeded(self, event):
            counter.finish()

        def failed(self, event):
            counter.finish()

    monitoring.register(Listener())
    return counter


def read(folder, pids=None):
    """Return {name: count} summed over the processes' files (all, or those of
    ``pids``), "total" (commands started) and "in_flight" (started, not
    yet finished)."""
    totals = dict.fromkeys(NAMES, 0)
    done = 0
    for path in Path(folder).glob("*.commands"):
        if pids is not None and int(path.stem) not in pids:
            continue
        data = path.read_bytes()[:SIZE].ljust(SIZE, b"\0")
        values = struct.unpack(f"={len(NAMES) + 1}q", data)
        for name, value in zip(NAMES, values):
            totals[name] += value
        done += values[DONE]
    totals["total"] = sum(totals[name] for name in NAMES)
    totals["in_flight"] = totals["total"] - done
    return totals
