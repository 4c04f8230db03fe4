"""Sphinx configuration of the makechat docs (built with ``sphinx-build -W``)."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE / "_ext"), str(HERE.parent)]

from makechat import __version__  # noqa: E402

project = "makechat"
author = "the makechat developers"
copyright = "makechat developers"
version = release = __version__

extensions = ["sphinx.ext.autodoc", "makechat_docs"]
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = []
pygments_style = "sphinx"
autodoc_member_order = "bysource"
# mongoengine's Document.objects is a query: rendering it would hit the database.
autodoc_default_options = {"members": True, "undoc-members": False,
                           "exclude-members": "objects, posted, DoesNotExist, MultipleObjectsReturned"}
# Falcon responders and helper objects keep the signatures Sphinx finds.
nitpicky = False
