"""``python -m devdb``: what ``make run`` runs."""

import sys

from devdb.run import run_local

sys.exit(run_local())
