"""Record the commands pymongo sends (command monitoring), for query-shape
and query-count tests. Registered once; clients created afterwards report."""

import pymongo.monitoring
import pytest


class CommandLog(pymongo.monitoring.CommandListener):
    def __init__(self):
        self.active = False
        self.commands = []

    def started(self, event):
        if self.active:
            self.commands.append((event.command_name, dict(event.command)))

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


COMMANDS = CommandLog()
pymongo.monitoring.register(COMMANDS)


@pytest.fixture
def commands():
    """The list of (command name, command) sent while the test runs."""
    COMMANDS.commands.clear()
    COMMANDS.active = True
    yield COMMANDS.commands
    COMMANDS.active = False
