"""`make bench` (bench/run.py) in its smoke mode: the whole benchmark, tiny,
so that it cannot rot. What is checked is that a report with every section
comes out, never a timing: the figures of a smoke run mean nothing."""

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devdb.database import ferretdb_binary

# `pytest -m "not slow"` leaves it out: it starts FerretDB, two gunicorn
# servers, wrk, an asyncio client and (where installed) PostgreSQL.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import report  # noqa: E402  (bench/report.py: the section names)


def ferretdb_available():
    try:
        return ferretdb_binary().exists()
    except (RuntimeError, OSError, subprocess.CalledProcessError):
        return False


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    if not shutil.which("wrk"):
        pytest.fail("wrk is not installed (make test installs it: apt-get install wrk)")
    if not ferretdb_available():
        pytest.fail("FerretDB is not built (make ferretdb)")
    out = tmp_path_factory.mktemp("bench-report")
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--smoke",
                           "--out", str(out)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def test_the_report_has_every_section(smoke):
    text = (smoke / "report.rst").read_text(encoding="utf-8")
    for section in report.SECTIONS:
        assert f"\n{section}\n{'=' * len(section)}\n" in text, section
    for route in report.ROUTES:
        assert route in text
    assert "Skipped." not in text


def test_every_part_measured_something(smoke):
    data = json.loads((smoke / "report.json").read_text(encoding="utf-8"))
    routes = data["routes"]["summary"]
    assert set(routes) == set(report.ROUTES)
    for summary in routes.values():
        assert set(summary["apps"]) == {"makechat", "baseline"}
        for app in summary["apps"].values():
            assert app["requests"] > 0 and app["errors"] == 0
            assert app["commands"] > 0 and app["cpu_ms"] > 0
    assert {run["mode"] for run in data["live"]} == {"poll", "sse"}
    for run in data["live"]:
        assert run["missing"] == 0 and run["failed"] == 0
        assert run["deliveries"] == run["clients"] * run["posts"]
        # What issue 12 asks of the stream: delivery, idle queries, memory.
        for key in ("p99_ms", "idle_commands_per_s", "kib_per_client",
                    "delivery_commands_per_delivery"):
            assert run[key] is not None, key
    backends = {point["backend"] for point in data["sizes"]}
    assert "sqlite" in backends
    if data["postgresql"] == "measured":
        assert "postgresql" in backends
    for point in data["sizes"]:
        assert point["makechat"]["statuses"] == [200] and point["baseline"]["statuses"] == [200]


def test_the_plot_is_drawn_where_matplotlib_is(smoke):
    if importlib.util.find_spec("matplotlib") is None:
        pytest.fail("matplotlib is not installed (the bench extra)")
    png = smoke / "latency.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert ".. image:: latency.png" in (smoke / "report.rst").read_text(encoding="utf-8")
