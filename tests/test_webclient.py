"""The web client's pages and assets as makechat serves them (resources/webclient.py)."""

import re

import pytest

from makechat.app import create_app
from makechat.resources.webclient import BUNDLED_WEB_ROOT

PAGES = [("/", "index.html"), ("/admin", "admin.html"),
         ("/makechat", "index.html"), ("/makechat/", "index.html"),
         ("/makechat/admin", "admin.html")]


@pytest.mark.parametrize("path, filename", PAGES)
def test_get_page_serves_the_client(app, path, filename):
    response = app.get(path)
    assert response.status_int == 200
    assert response.content_type == "text/html"
    assert response.body == (BUNDLED_WEB_ROOT / filename).read_bytes()


def test_get_page_sets_a_strict_content_security_policy(app):
    response = app.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_head_page_answers_without_error(app):
    assert app.head("/makechat/admin").status_int == 200


@pytest.mark.parametrize("path", ["/assets/app.js", "/makechat/assets/app.js"])
def test_get_module_script_has_a_javascript_type(app, path):
    response = app.get(path)
    assert response.status_int == 200
    assert response.content_type == "text/javascript"


MODULE_SCRIPT = re.compile(r'<script type="module" src="assets/([^"]+)"')
RELATIVE_IMPORT = re.compile(r'^import\b[^;]*?\bfrom\s+"\./([^"]+)"', re.MULTILINE)


def loaded_modules():
    """Every module the pages load: their module scripts and, from those, each
    relative import (a name whose file is missing is kept, for the tests to catch)."""
    pending = [name for page in ("index.html", "admin.html")
               for name in MODULE_SCRIPT.findall((BUNDLED_WEB_ROOT / page).read_text())]
    found = set()
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.add(name)
        path = BUNDLED_WEB_ROOT / "assets" / name
        if path.is_file():
            pending.extend(RELATIVE_IMPORT.findall(path.read_text()))
    return sorted(found)


@pytest.mark.parametrize("prefix", ["", "/makechat"])
def test_get_every_module_the_pages_load_is_served_as_javascript(app, prefix):
    modules = loaded_modules()
    assert {"app.js", "admin.js", "room.js", "room-live.js"} <= set(modules)
    for name in modules:
        response = app.get(f"{prefix}/assets/{name}", expect_errors=True)
        assert response.status_int == 200, name
        assert response.content_type == "text/javascript", name


def test_every_module_in_the_assets_is_loaded_by_a_page():
    # A module left out of the import graph after a split is dead code that
    # still ships; one imported but missing breaks the page (the test above).
    assets = BUNDLED_WEB_ROOT / "assets"
    files = {path.relative_to(assets).as_posix() for path in assets.rglob("*.js")}
    assert files == set(loaded_modules())


def test_get_stylesheet_has_a_css_type(app):
    assert app.get("/assets/style.css").content_type == "text/css"


@pytest.mark.parametrize("path", ["/assets/../../pyproject.toml", "/assets/%2e%2e/admin.html",
                                  "/assets/nothing.js"])
def test_get_asset_outside_the_folder_is_404(app, path):
    assert app.get(path, expect_errors=True).status_int == 404


def test_get_unknown_api_path_stays_json(app):
    response = app.get("/api/nothing", headers={"Accept": "application/json"}, expect_errors=True)
    assert response.status_int == 404
    assert set(response.json) == {"title", "description"}


def test_client_files_insert_no_html():
    # SECURITY: user text enters the page as text; no file of the client may
    # parse strings as HTML.
    for path in (BUNDLED_WEB_ROOT / "assets").rglob("*.js"):
        source = path.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, f"{path.name} uses {sink}"


def test_web_root_setting_serves_another_folder(config, tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>custom</title>")
    import webtest
    custom = webtest.TestApp(create_app(config.replace(web_root=str(tmp_path))))
    assert b"custom" in custom.get("/").body
    assert custom.get("/admin", expect_errors=True).status_int == 404
