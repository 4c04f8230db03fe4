"""Identical simultaneous calls share one execution (and its result)."""

import threading


class SingleFlight:
    """Run one call per key at a time; callers arriving meanwhile get its result."""

    class _Call:
        def __init__(self):
            self.done = threading.Event()
            self.result = None
            self.error = None

    def __init__(self):
        self._lock = threading.Lock()
        self._calls = {}

    def do(self, key, function):
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if leader:
                call = self._calls[key] = self._Call()
        if leader:
            try:
                call.result = function()
            except Exception as error:  # noqa: BLE001 - handed to every caller
                call.error = error
            finally:
                with self._lock:
                    del self._calls[key]
                call.done.set()
        else:
            call.done.wait()
        if call.error is not None:
            raise call.error
        return call.result
