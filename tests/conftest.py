"""Fixtures: a real MongoDB-compatible server for the session, a clean
database per test, a WebTest app, and helpers to act as a user.

The server is $MAKECHAT_TEST_MONGO_URI if set, else a mongod on PATH, else
FerretDB v1.24.2 built once into ~/.cache/makechat. Never a fake.
"""

import os

import pymongo
import pytest
import webtest

from devdb.database import DatabaseServer
from makechat import db
from makechat.app import create_app
from makechat.config import Config
from makechat.db import database_name
from tests import factories

# NOTE: the fixture lives here, not in the modules that use it, where each test
# taking it would read to pyflakes as redefining the imported name.
from tests.commandlog import commands  # noqa: F401 - a fixture

TEST_DB = "makechat_test"


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory):
    """Yield an object with .uri(db) for a server that lives for the session."""
    uri = os.environ.get("MAKECHAT_TEST_MONGO_URI")
    if uri:
        class External:
            kind = "external"

            def uri(self, database=TEST_DB):
                base, _, _ = uri.rpartition("/") if uri.count("/") > 2 else (uri, "", "")
                return f"{base}/{database}"
        yield External()
        return
    server = DatabaseServer(tmp_path_factory.mktemp("mongo"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mongo_uri(mongo_server):
    return mongo_server.uri(TEST_DB)


@pytest.fixture(scope="session")
def raw_db(mongo_uri):
    """A plain pymongo handle on the test database, for assertions."""
    client = pymongo.MongoClient(mongo_uri, tz_aware=True)
    yield client[database_name(mongo_uri)]
    client.close()


@pytest.fixture
def config(mongo_uri):
    """The test config; mongoengine is connected with it, so factories work."""
    config = Config(mongo_uri=mongo_uri, bcrypt_rounds=4, poll_interval=0.05, db_timeout=3.0)
    db.connect(config)
    db.ensure_indexes()
    return config


@pytest.fixture(autouse=True)
def clean_database(request, raw_db):
    """Empty every collection before each test (indexes stay: faster than a drop)."""
    if "mongo_uri" not in request.fixturenames and "app" not in request.fixturenames \
            and "config" not in request.fixturenames:
        yield
        return
    for name in raw_db.list_collection_names():
        raw_db[name].delete_many({})
    yield


@pytest.fixture
def wsgi_app(config):
    return create_app(config)


@pytest.fixture
def app(wsgi_app):
    """A WebTest app; 4xx/5xx do not raise (tests assert the status)."""
    return webtest.TestApp(wsgi_app)


@pytest.fixture
def make_user(config):
    return factories.UserFactory(config)


@pytest.fixture
def api(app):
    """api.as_user(user) returns a client that sends that user's token."""
    return factories.ApiClient(app)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Leave each phase's report on the test item as report_<phase>, so a
    fixture can tell whether its test failed (browser tests save a screenshot)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def admin(make_user):
    """An admin named 'admin'."""
    return make_user("admin", admin=True)


@pytest.fixture
def bob(make_user):
    """A plain user named 'bob'."""
    return make_user("bob")
