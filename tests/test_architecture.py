"""The layers: the core knows no HTTP; only the web layer imports falcon."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "makechat"
#: The web layer: the only modules that may import falcon.
WEB_LAYER = {"app.py", "errors.py", "middleware.py", "hooks.py", "media.py", "server.py",
             "openapi.py", "wsgi.py"}


def imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_only_the_web_layer_imports_falcon():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "resources" or str(relative) in WEB_LAYER:
            continue
        if any(name == "falcon" or name.startswith("falcon.") for name in imported_modules(path)):
            offenders.append(str(relative))
    assert offenders == [], "the core must raise makechat.exceptions, not falcon errors"


def test_the_core_never_imports_the_web_layer():
    offenders = []
    for path in (PACKAGE / "chat").rglob("*.py"):
        for name in imported_modules(path):
            if name.startswith("makechat.resources") or name in (
                    "makechat.app", "makechat.errors", "makechat.middleware", "makechat.hooks"):
                offenders.append(f"{path.name}: {name}")
    assert offenders == []


#: Lines a module may have before it must say at its top why it is longer.
MAX_LINES = 320
LONG_REASON = "NOTE: long"


def test_no_module_is_long_without_saying_why():
    """Issue 11: a module does one thing, in about 300 lines at most; one that
    is longer says why in its first lines ("NOTE: long because ...")."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix not in (".py", ".js", ".css", ".html") or "__pycache__" in path.parts:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_LINES and LONG_REASON not in "\n".join(lines[:30]):
            offenders.append(f"{path.relative_to(PACKAGE)}: {len(lines)} lines")
    assert offenders == []
