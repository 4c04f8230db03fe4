"""The docs: the Sphinx site builds without a warning, and every httpie/curl
example of the API reference gets, from a real app and database, the status
and the response shape the page shows."""

import io
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import webtest

DOCS = Path(__file__).resolve().parent.parent / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import makechat_docs  # noqa: E402

from makechat import accounts, cli, openapi  # noqa: E402
from makechat.app import create_app  # noqa: E402
from makechat.auth import check_password  # noqa: E402
from makechat.cli import Env  # noqa: E402
from makechat.models import User  # noqa: E402

# `pytest -m "not slow"` leaves these out: they build the site with Sphinx
# and replay every example of the API page.
pytestmark = pytest.mark.slow

API_PAGE = DOCS / "api.rst"
#: Response headers a page may show; the replay checks they are sent.
SHOWN_HEADERS = ("Location", "Link", "Allow", "Retry-After", "Idempotent-Replayed")


@pytest.fixture(scope="module")
def sphinx_build(tmp_path_factory):
    """The site, built once as `make docs` builds it: (result, output folder)."""
    html = tmp_path_factory.mktemp("docs") / "html"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(DOCS), str(html)],
        capture_output=True, text=True, timeout=300)
    return result, html


def test_sphinx_build_passes_without_warnings(sphinx_build):
    result, _ = sphinx_build
    assert result.returncode == 0, result.stderr[-4000:]


@pytest.fixture
def docs_app(sphinx_build, config):
    """The app serving the site just built at /docs/."""
    return webtest.TestApp(create_app(config.replace(docs_root=str(sphinx_build[1]))))


def test_docs_root_redirects_to_the_index(docs_app):
    for path in ("/docs", "/docs/"):
        response = docs_app.get(path, expect_errors=True)
        assert response.status_int == 302
        assert response.headers["Location"].endswith("/docs/index.html")


def test_docs_pages_are_served_when_built(docs_app):
    response = docs_app.get("/docs/api.html")
    assert response.status_int == 200 and response.content_type == "text/html"
    # The examples are rendered there as commands, which the .rst only declares.
    text = re.sub(r"<[^>]+>", "", response.text)
    assert "$ curl -s" in text and "$ http GET" in text


def test_docs_refuse_paths_outside_the_site(docs_app):
    assert docs_app.get("/docs/../conf.py", expect_errors=True).status_int == 404
    assert docs_app.get("/docs/%2e%2e/conf.py", expect_errors=True).status_int == 404


def test_docs_not_built_say_how_to_build_them(config, tmp_path):
    app = webtest.TestApp(create_app(config.replace(docs_root=str(tmp_path / "none"))))
    response = app.get("/docs/", expect_errors=True)
    assert response.status_int == 404
    assert "make docs" in response.json["description"]


def test_every_operation_has_an_endpoint_section(wsgi_app):
    text = API_PAGE.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\.\. api-endpoint:: (\S+) (\S+)$", text, re.M))
    operations = {(route.method, route.path) for route in openapi.iter_routes(wsgi_app)}
    assert operations - documented == set(), "describe these in docs/api.rst"
    assert documented - operations == set(), "docs/api.rst describes operations that do not exist"


def test_every_operation_has_an_example(wsgi_app):
    examples = makechat_docs.parse_examples(API_PAGE.read_text(encoding="utf-8"))
    shown = {(example.method, _template(example.path, wsgi_app)) for example in examples}
    missing = {(route.method, route.path) for route in openapi.iter_routes(wsgi_app)} - shown
    assert missing == set(), "add an api-example for these to docs/api.rst"


def test_api_page_has_no_command_outside_examples():
    # Commands in literal blocks would escape the replay below.
    text = API_PAGE.read_text(encoding="utf-8")
    assert not re.search(r"^\s*\$ (http|curl) ", text, re.M)


def _template(path, app):
    """Return the route template a concrete example path belongs to."""
    path = path.split("?", 1)[0]
    for route in openapi.iter_routes(app):
        pattern = re.sub(r"\\\{[a-z_]+\\\}", r"[^/]+", re.escape(route.path))
        if re.fullmatch(pattern, path):
            return route.path
    return path


# --- replaying the examples --------------------------------------------------

def _id_text(value):
    if isinstance(value, dict) and set(value) == {"$oid"}:
        return value["$oid"]
    return str(value)


def shape_problems(documented, actual, where="response", depth=0):
    """Return how actual differs in shape from documented: the same keys at
    the top, at least the documented keys deeper down (the page may shorten
    a long object), the first item of each list compared alike."""
    if isinstance(documented, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {type(actual).__name__}"]
        missing, extra = set(documented) - set(actual), set(actual) - set(documented)
        problems = [f"{where}: missing keys {sorted(missing)}"] if missing else []
        if extra and depth == 0:
            problems.append(f"{where}: undocumented keys {sorted(extra)}")
        for key in set(documented) & set(actual):
            problems += shape_problems(documented[key], actual[key], f"{where}.{key}", depth + 1)
        return problems
    if isinstance(documented, list):
        if not isinstance(actual, list):
            return [f"{where}: expected a list, got {type(actual).__name__}"]
        if documented and not actual:
            return [f"{where}: expected items, got an empty list"]
        if not documented and actual and depth == 0:
            return [f"{where}: expected an empty list, got {len(actual)} items"]
        if documented and actual:
            return shape_problems(documented[0], actual[0], f"{where}[0]", depth + 1)
        return []
    if documented is None or actual is None:
        return []
    if type(documented) is not type(actual) and not (
            isinstance(documented, (int, float)) and isinstance(actual, (int, float))):
        return [f"{where}: expected {type(documented).__name__}, got {type(actual).__name__}"]
    return []


class Replay:
    """Runs examples in order against a WebTest app, keeping saved values."""

    def __init__(self, app, users):
        self.app = app
        self.tokens = {name: user.secret for name, user in users.items()}
        self.tokens["nobody"] = makechat_docs.SAMPLE_TOKENS["nobody"]
        self.values = {f"{name}_id": str(user.id) for name, user in users.items()}
        self.samples = {str(user.id): makechat_docs.sample_id(f"{name}_id")
                        for name, user in users.items()}
        self.samples.update({secret: makechat_docs.SAMPLE_TOKENS[name]
                             for name, secret in self.tokens.items()})

    def run(self, example):
        fill = lambda text: makechat_docs.fill(text, self.values)  # noqa: E731
        token = fill(example.token) if example.token else self.tokens.get(example.user, "")
        headers = {"Accept": "application/json", **example.headers(token)}
        body = None
        if example.body:
            body = fill(example.body).encode()
            headers["Content-Type"] = "application/json"
        elif example.raw_body:
            body = example.raw_body.encode()
            headers["Content-Type"] = example.content_type or "text/plain"
        response = self.app.request(fill(example.path), method=example.method,
                                    headers=headers, body=body, expect_errors=True)
        parsed = json.loads(response.body) if response.body else None
        self.last_headers = response.headers
        for name, field in example.saves():
            value = parsed
            for key in field.split("."):
                value = value.get(key) if isinstance(value, dict) else None
            if value is None:
                continue  # the status or shape check reports it
            value = _id_text(value)
            self.values[name] = value
            self.samples[value] = makechat_docs.sample_value(name)
        return response.status_int, parsed

    def as_shown(self, parsed):
        """The response with this run's ids and tokens replaced by the page's."""
        text = json.dumps(parsed, ensure_ascii=False)
        for real in re.findall(r'"([0-9a-f]{24})"', text):
            self.samples.setdefault(real, makechat_docs.sample_id(f"other-{len(self.samples)}"))
        for real, sample in self.samples.items():
            text = text.replace(real, sample)
        return json.loads(text)

    def header_as_shown(self, value):
        for real in re.findall(r"[0-9a-f]{24}", value):
            self.samples.setdefault(real, makechat_docs.sample_id(f"other-{len(self.samples)}"))
        for real, sample in self.samples.items():
            value = value.replace(real, sample)
        return value

    def seed(self):
        """The rooms the page starts with, as the manual's examples did."""
        for name in ("room1", "room2"):
            self.run(makechat_docs.make_example(
                "POST /api/rooms", {"as": "admin", "status": "201",
                                    "body": json.dumps({"name": name}),
                                    "save": f"{name}_id=_id"}, []))


def setup_commands():
    """The `makechat user create` lines the API page says its examples were made with."""
    text = API_PAGE.read_text(encoding="utf-8")
    return [shlex.split(line) for line in re.findall(r"^\s+\$ makechat (user create .*)$",
                                                      text, re.M)]


@pytest.fixture
def doc_users(config, app):
    """The page's accounts, made by running its own setup commands, each with
    the token a log-in gives."""
    env = Env(stdout=io.StringIO(), stderr=io.StringIO(), stdin=io.StringIO(),
              environ={"MAKECHAT_MONGO_URI": config.mongo_uri, "MAKECHAT_BCRYPT_ROUNDS": "4"})
    for command in setup_commands():
        assert cli.run(command, env) == 0, env.stderr.getvalue()
    users = {}
    for name in makechat_docs.USERS:
        user = accounts.find_user(name)
        login = app.post_json("/api/login", {"username": name,
                                             "password": makechat_docs.PASSWORDS[name]})
        user.secret = login.json["token"]
        users[name] = user
    return users


def test_api_page_setup_makes_the_users_its_examples_use(doc_users):
    assert sorted(User.objects.values_list("username")) == sorted(makechat_docs.USERS)
    for name, user in doc_users.items():
        assert check_password(makechat_docs.PASSWORDS[name], user.password)
        assert user.is_superuser is (name == "admin")


def _created_times(value, found):
    """Collect {id: {created, ...}} from every object of a documented response."""
    if isinstance(value, dict):
        if isinstance(value.get("_id"), dict) and "created" in value:
            found.setdefault(value["_id"]["$oid"], set()).add(value["created"])
        for item in value.values():
            _created_times(item, found)
    elif isinstance(value, list):
        for item in value:
            _created_times(item, found)
    return found


def test_api_page_shows_one_creation_time_per_object():
    # A replayed or relisted object is the same object: it was created once.
    found = {}
    for example in makechat_docs.parse_examples(API_PAGE.read_text(encoding="utf-8")):
        _created_times(example.json_response, found)
    assert {oid: times for oid, times in found.items() if len(times) > 1} == {}


def test_api_examples_replay(app, doc_users):
    examples = makechat_docs.parse_examples(API_PAGE.read_text(encoding="utf-8"))
    assert examples, "docs/api.rst has no api-example"
    replay = Replay(app, doc_users)
    replay.seed()
    problems, recorded = [], []
    for example in examples:
        where = f"docs/api.rst:{example.line} {example.method} {example.path}"
        status, parsed = replay.run(example)
        recorded.append({"line": example.line, "status": status,
                         "body": replay.as_shown(parsed) if parsed is not None else None,
                         "headers": {name: replay.header_as_shown(replay.last_headers[name])
                                     for name in SHOWN_HEADERS if name in replay.last_headers}})
        if status != example.status:
            problems.append(f"{where}: status {status}, documented {example.status}: {parsed}")
            continue
        for name in example.response_headers:
            if name not in replay.last_headers:
                problems.append(f"{where}: no {name} header in the response")
        if example.response.strip():
            problems += [f"{where}: {problem}"
                         for problem in shape_problems(example.json_response, parsed)]
        elif parsed is not None:
            problems.append(f"{where}: the page shows no body, the API sent one")
    if os.environ.get("MAKECHAT_DOCS_RECORD"):
        Path(os.environ["MAKECHAT_DOCS_RECORD"]).write_text(json.dumps(recorded, indent=1))
    assert problems == []
