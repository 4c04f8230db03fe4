"""Sphinx directives that write makechat's docs from its code.

* ``.. makechat-settings::`` -- every key of makechat.conf, from
  ``makechat.config.SETTINGS``.
* ``.. makechat-help:: user create`` -- the ``--help`` of a CLI command, from
  ``makechat.cli.build_parser``.
* ``.. api-endpoint:: POST /api/rooms`` -- an operation's summary, auth,
  parameters, request fields and status codes, from the OpenAPI document
  that ``/api/openapi.json`` serves.
* ``.. api-example:: POST /api/rooms`` -- one request (as httpie and curl)
  and its response. ``tests/test_docs.py`` replays every example, in page
  order, against a real app and database: the documented status and the
  response's keys must hold.

The example format (options, then the response body as the content)::

    .. api-example:: POST /api/messages
       :as: alice                  (admin, alice, bob, carol, a bad token: nobody;
                                    omitted: no token)
       :token: {alice_login}       (an explicit token instead of :as:)
       :body: {"room": "{room}", "text": "Hello"}
       :raw-body: text sent as is  (with :content-type:)
       :content-type: text/plain
       :accept: text/html
       :header: Idempotency-Key: 5f0c
       :status: 201
       :save: msg=_id              (remember a response field for later examples)

       {"_id": {"$oid": "..."}, ...}

``{name}`` in the path, body or token is a value saved by an earlier example
(or ``{alice_id}`` etc. for the users); the page shows a fixed sample value.
"""

import dataclasses
import base64
import hashlib
import json
import re
import shlex
import textwrap

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList

BASE_URL = "http://localhost:8080"

#: The tokens the pages show for each user (32 lowercase letters and digits).
SAMPLE_TOKENS = {
    "admin": "4388c735cba9455cae341cbf17ed2198",
    "alice": "52115268596140298df2a640f37eea57",
    "bob": "b0b5e7d1a3c94f02817e6d5c4b3a2918",
    "carol": "c4r01a9e8d7c6b5a4f3e2d1c0b9a8f7e",
    "nobody": "4388c735cba9455cae341cbf17ed2191",
}
USERS = ("admin", "alice", "bob")
PASSWORDS = {"admin": "admin-pass-123", "alice": "alice-pass-123", "bob": "bob-pass-1234"}

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def sample_id(name):
    """Return the fixed 24-hex-digit id the pages show for a saved value."""
    return hashlib.sha1(name.encode()).hexdigest()[:24]


def sample_value(name):
    if name.endswith(("_login", "_secret")):
        return hashlib.sha1(name.encode()).hexdigest()[:32]
    if name.endswith("_cursor"):
        # An event-stream cursor: "1." and base64url bytes.
        digest = hashlib.sha1(name.encode()).digest() * 2
        return "1." + base64.urlsafe_b64encode(digest[:26]).decode().rstrip("=")
    return sample_id(name)


def fill(text, values):
    """Replace every {name} in text by values[name] (KeyError if unknown)."""
    return _PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), text)


def fill_samples(text):
    return _PLACEHOLDER.sub(lambda match: sample_value(match.group(1)), text)


@dataclasses.dataclass
class Example:
    """One documented request and the response it must get."""

    method: str
    path: str
    status: int
    user: str = ""
    token: str = ""
    body: str = ""
    raw_body: str = ""
    content_type: str = ""
    accept: str = ""
    header: str = ""
    save: str = ""
    response: str = ""
    response_headers: dict = dataclasses.field(default_factory=dict)
    line: int = 0

    @property
    def json_body(self):
        return json.loads(self.body) if self.body else None

    @property
    def json_response(self):
        return json.loads(self.response) if self.response.strip() else None

    def saves(self):
        """Return [(name, field)] from ``:save: a=_id b=token``."""
        return [tuple(part.split("=", 1)) for part in self.save.split()]

    def shown_token(self):
        if self.token:
            return fill_samples(self.token)
        return SAMPLE_TOKENS.get(self.user, "")

    def headers(self, token):
        headers = {}
        if token:
            headers["X-Auth-Token"] = token
        if self.accept:
            headers["Accept"] = self.accept
        if self.header:
            name, _, value = self.header.partition(":")
            headers[name.strip()] = value.strip()
        return headers


OPTIONS = {"as": "user", "token": "token", "body": "body", "raw-body": "raw_body",
           "content-type": "content_type", "accept": "accept", "header": "header",
           "status": "status", "save": "save"}


def make_example(argument, options, content, line=0):
    """Build an Example from a directive's argument, options and content."""
    method, _, path = argument.strip().partition(" ")
    fields = {OPTIONS[key]: value for key, value in options.items()}
    fields["status"] = int(fields["status"])
    content = list(content)
    headers = {}
    # Response headers worth showing (Location, Link, Allow, ...) come first,
    # one "Name: value" a line, then a blank line, then the JSON body.
    while content and re.match(r"^[A-Z][A-Za-z-]*: ", content[0]):
        name, _, value = content.pop(0).partition(": ")
        headers[name] = value
    while content and not content[0].strip():
        content.pop(0)
    return Example(method=method.upper(), path=path.strip(), response="\n".join(content),
                   response_headers=headers, line=line, **fields)


def parse_examples(text):
    """Return the Examples of an .rst text, in order (a small parser of the
    same directive docutils reads, so the tests need no Sphinx build)."""
    examples = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = re.match(r"^(\s*)\.\. api-example::\s*(.+)$", lines[index])
        if not match:
            index += 1
            continue
        indent, argument, start = len(match.group(1)), match.group(2), index + 1
        index += 1
        options, content = {}, []
        while index < len(lines):
            line = lines[index]
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            option = re.match(r"^\s+:([a-z-]+):\s*(.*)$", line)
            if option and not content:
                options[option.group(1)] = option.group(2)
            elif line.strip() or content:
                content.append(line)
            index += 1
        body = textwrap.dedent("\n".join(content)).strip().splitlines()
        examples.append(make_example(argument, options, body, line=start))
    return examples


def _shell(text):
    return shlex.quote(text)


def httpie_command(example):
    """Return the httpie command line of an example (as the page shows it)."""
    parts = ["http"]
    if example.raw_body:
        parts = [f"echo {_shell(example.raw_body)} |", "http"]
    parts += [example.method, _shell(BASE_URL + fill_samples(example.path))]
    for name, value in example.headers(example.shown_token()).items():
        parts.append(_shell(f"{name}:{value}"))
    if example.content_type:
        parts.append(_shell(f"Content-Type:{example.content_type}"))
    body = json.loads(fill_samples(example.body)) if example.body else {}
    for key, value in body.items():
        if isinstance(value, str):
            parts.append(_shell(f"{key}={value}"))
        else:
            parts.append(_shell(f"{key}:={json.dumps(value)}"))
    return "$ " + " ".join(parts)


def curl_command(example):
    """Return the curl command line of an example."""
    parts = ["curl", "-s"]
    if example.method != "GET":
        parts += ["-X", example.method]
    parts.append(_shell(BASE_URL + fill_samples(example.path)))
    for name, value in example.headers(example.shown_token()).items():
        parts += ["-H", _shell(f"{name}: {value}")]
    if example.body:
        parts += ["-H", _shell("Content-Type: application/json"),
                  "-d", _shell(fill_samples(example.body))]
    elif example.raw_body:
        parts += ["-H", _shell(f"Content-Type: {example.content_type or 'text/plain'}"),
                  "-d", _shell(example.raw_body)]
    return "$ " + " \\\n      ".join(_wrap_args(parts))


def _wrap_args(parts):
    """Group curl's arguments by option so each -H/-d sits on its own line."""
    lines, current = [], []
    for part in parts:
        if part in ("-H", "-d") and current:
            lines.append(" ".join(current))
            current = []
        current.append(part)
    lines.append(" ".join(current))
    return lines


def _reason(status):
    from http import HTTPStatus
    return HTTPStatus(status).phrase


_OID_BLOCK = re.compile(r'\{\n\s+"\$oid": ("[0-9a-f]{24}")\n\s+\}')


def format_json(value):
    """Indented JSON, with each {"$oid": ...} on one line."""
    return _OID_BLOCK.sub(r'{"$oid": \1}', json.dumps(value, indent=4, ensure_ascii=False))


def response_text(example):
    lines = [f"HTTP/1.1 {example.status} {_reason(example.status)}"]
    if example.response.strip():
        lines.append("Content-Type: application/json; charset=utf-8")
    lines.extend(f"{name}: {value}" for name, value in example.response_headers.items())
    if example.response.strip():
        lines.append("")
        lines.extend(format_json(example.json_response).splitlines())
    return lines


def _code_block(language, lines):
    return [f".. code-block:: {language}", ""] + ["   " + line for line in lines] + [""]


def example_rst(example):
    """Return the reStructuredText lines that show an example."""
    out = ["**httpie**", ""]
    out += _code_block("console", httpie_command(example).splitlines())
    out += ["**curl**", ""]
    out += _code_block("console", curl_command(example).splitlines())
    out += ["**Response**", ""]
    out += _code_block("http", response_text(example))
    return out


class ApiExampleDirective(Directive):
    required_arguments = 2
    has_content = True
    option_spec = {key: directives.unchanged for key in OPTIONS}

    def run(self):
        example = make_example(" ".join(self.arguments), self.options, self.content,
                               self.lineno)
        try:
            example.json_response
            example.json_body
        except ValueError as error:
            raise self.error(f"api-example {example.method} {example.path}: bad JSON: {error}")
        container = nodes.container(classes=["api-example"])
        self.state.nested_parse(StringList(example_rst(example), self.state.document.current_source),
                                self.content_offset, container)
        return [container]


# ------------------------------------------------------------------ endpoints

_SPEC = None


def api_spec():
    """The OpenAPI document of an app built with the default config (no
    database is touched: the app connects lazily)."""
    global _SPEC
    if _SPEC is None:
        from makechat.app import create_app
        from makechat.config import Config
        from makechat.openapi import build_spec
        _SPEC = build_spec(create_app(Config()))
    return _SPEC


def _rst_text(text):
    """Markdown-ish `code` (as in the OpenAPI document) to rst ``code``."""
    return re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", text)


def _schema_words(schema, spec):
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return "an id" if name == "ObjectId" else name
    if "oneOf" in schema:
        return " or ".join(_schema_words(option, spec) for option in schema["oneOf"])
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(value) for value in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_schema_words(schema.get('items', {}), spec)}"
    if kind == "null":
        return "null"
    return kind


def _rule(schema):
    if "x-rule" in schema:
        return schema["x-rule"]
    bounds = []
    if "minimum" in schema:
        bounds.append(f"at least {schema['minimum']:g}")
    if "maximum" in schema:
        bounds.append(f"at most {schema['maximum']:g}")
    if "default" in schema:
        bounds.append(f"default {schema['default']}")
    return ", ".join(bounds)


def _resolve(schema, spec):
    if "$ref" in schema:
        return spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def endpoint_rst(method, path, spec):
    """Return the rst lines describing one operation of the OpenAPI document."""
    operation = spec["paths"][path][method.lower()]
    out = _rst_text(operation.get("description") or operation["summary"] + ".").split("\n")
    out.append("")
    responses = operation["responses"]
    auth = {"none": "none",
            "token": "a token (``X-Auth-Token``)",
            "admin": "a token of an admin (``X-Auth-Token``)"}[operation["x-auth"]]
    out += [f":Authentication: {auth}"]
    parameters = operation.get("parameters", [])
    if parameters:
        out += [":Parameters:"]
        for param in parameters:
            required = "required" if param.get("required") else "optional"
            rule = _rule(param.get("schema", {}))
            extra = f"; {rule}" if rule else ""
            out += [f"   * ``{param['name']}`` ({param['in']}, "
                    f"{_schema_words(param.get('schema', {}), spec)}, {required}{extra}) -- "
                    f"{_rst_text(param.get('description', ''))}"]
    body = operation.get("requestBody")
    if body:
        schema = body["content"]["application/json"]["schema"]
        required = set(schema.get("required", ()))
        out += [":Request JSON object:"]
        for name, field in schema.get("properties", {}).items():
            rule = _rule(field)
            flag = "required" if name in required else "optional"
            out += [f"   * ``{name}`` ({_schema_words(field, spec)}, {flag})"
                    + (f" -- {rule}" if rule else "")]
    for status, response in responses.items():
        content = response.get("content", {}).get("application/json")
        if content and int(status) < 400:
            schema = content["schema"]
            many = schema.get("type") == "array"
            item = _resolve(schema["items"] if many else schema, spec)
            name = (schema["items"] if many else schema).get("$ref", "").rsplit("/", 1)[-1]
            fields = ", ".join(f"``{key}``" for key in item.get("properties", {}))
            what = f"a list of {name} objects" if many else f"a {name} object"
            out += [f":Response JSON ({status}): {what}: {fields}"]
            break
    out += [":Status codes:"]
    for status, response in responses.items():
        out += [f"   * **{status}** {_rst_text(response['description'])}"]
    return out + [""]


class ApiEndpointDirective(Directive):
    required_arguments = 2
    has_content = False

    def run(self):
        method, path = self.arguments
        spec = api_spec()
        if path not in spec["paths"] or method.lower() not in spec["paths"][path]:
            raise self.error(f"api-endpoint: {method} {path} is not an operation of the app")
        container = nodes.container(classes=["api-endpoint"])
        self.state.nested_parse(StringList(endpoint_rst(method, path, spec),
                                           self.state.document.current_source),
                                self.content_offset, container)
        return [container]


# ------------------------------------------------------------------ settings, CLI

def settings_rst():
    from makechat.config import ENV_PREFIX, SETTINGS
    out = [".. list-table::", "   :header-rows: 1", "   :widths: 22 30 12 36", "",
           "   * - Key", "     - Environment variable", "     - Default", "     - Meaning"]
    for setting in SETTINGS:
        default = repr(setting.default) if setting.default == "" else str(setting.default)
        out += [f"   * - ``{setting.name}``",
                f"     - ``{ENV_PREFIX}{setting.name.upper()}``",
                f"     - ``{default}``",
                f"     - {setting.help} ({setting.type.__name__})"]
    return out + [""]


class SettingsDirective(Directive):
    has_content = False

    def run(self):
        container = nodes.container(classes=["makechat-settings"])
        self.state.nested_parse(StringList(settings_rst(), self.state.document.current_source),
                                self.content_offset, container)
        return [container]


def cli_help(words):
    """Return the --help text of ``makechat <words>``."""
    import argparse
    from makechat.cli import build_parser
    parser = build_parser()
    for word in words:
        action = next(action for action in parser._actions
                      if isinstance(action, argparse._SubParsersAction))
        parser = action.choices[word]
    import os
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        return parser.format_help()
    finally:
        if columns is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = columns


class HelpDirective(Directive):
    required_arguments = 0
    optional_arguments = 5
    option_spec = {"prefix": directives.unchanged}

    def run(self):
        prefix = self.options.get("prefix", "docker exec makechat makechat")
        words = list(self.arguments)
        text = f"$ {prefix} {' '.join(words + ['-h'])}\n{cli_help(words)}".rstrip()
        block = nodes.literal_block(text, text, language="console")
        return [block]


#: Modules autodoc leaves out: importing makechat.wsgi builds the app from
#: the environment's configuration.
SKIP_MODULES = {"makechat.wsgi"}


def module_names():
    """Return every module of the makechat package, sorted."""
    import pkgutil
    import makechat
    names = ["makechat"]
    for info in pkgutil.walk_packages(makechat.__path__, "makechat."):
        if info.name not in SKIP_MODULES:
            names.append(info.name)
    return sorted(names)


class ModulesDirective(Directive):
    """One section per module of the package, each an automodule: a module
    added to makechat appears here with no edit to the docs."""

    has_content = False

    def run(self):
        lines = []
        for name in module_names():
            lines += [f".. rubric:: {name}", "", f".. automodule:: {name}", ""]
        container = nodes.container(classes=["makechat-modules"])
        self.state.nested_parse(StringList(lines, self.state.document.current_source),
                                self.content_offset, container)
        return [container]


def setup(app):
    app.add_directive("makechat-modules", ModulesDirective)
    app.add_directive("api-example", ApiExampleDirective)
    app.add_directive("api-endpoint", ApiEndpointDirective)
    app.add_directive("makechat-settings", SettingsDirective)
    app.add_directive("makechat-help", HelpDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
