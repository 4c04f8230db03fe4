"""GET /api/health, with the database up and with it not answering."""

import time

import webtest

from devdb.database import free_port
from makechat import __version__
from makechat.app import create_app
from makechat.resources.health import HealthResource


def test_health_database_up_returns_ok(app):
    response = app.get("/api/health")
    assert response.status_int == 200
    assert response.json == {"status": "ok", "database": "ok", "version": __version__}
    assert response.headers["X-Request-Id"]


def test_health_needs_no_token(app):
    assert app.get("/api/health", headers={"X-Auth-Token": "not-a-token"}).status_int == 200


def test_health_database_down_returns_503_quickly(config):
    """Nothing listens on the port: the check gives up within its bound
    (min(2 s, db_timeout)) and says so in the usual error shape."""
    down = config.replace(mongo_uri=f"mongodb://127.0.0.1:{free_port()}/makechat",
                          db_timeout=5.0)
    app = webtest.TestApp(create_app(down))
    started = time.monotonic()
    response = app.get("/api/health", expect_errors=True)
    elapsed = time.monotonic() - started
    assert response.status_int == 503
    body = response.json
    assert body["status"] == "error" and body["database"] == "unavailable"
    assert body["version"] == __version__
    assert body["title"] and "did not answer" in body["description"]
    assert response.headers["Retry-After"] == "5"
    assert elapsed < 4.0


def test_health_bound_is_at_most_db_timeout(config):
    assert HealthResource(config.replace(db_timeout=0.5)).timeout == 0.5
    assert HealthResource(config.replace(db_timeout=30.0)).timeout == 2.0


def test_health_skips_index_creation():
    assert HealthResource.uses_database is False

