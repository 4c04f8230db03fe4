"""scripts/build-ferretdb.sh: a FerretDB already built is found, never rebuilt."""

import os
import subprocess
from pathlib import Path

import pytest

from devdb.database import BUILD_SCRIPT, FERRETDB_VERSION, ferretdb_binary

# `pytest -m "not slow"` leaves these out: they run the build script hundreds of times.
pytestmark = pytest.mark.slow


def path_without_go():
    """PATH less every folder holding a `go`: a rebuild attempt then fails loudly."""
    folders = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(folder for folder in folders
                           if folder and not os.access(Path(folder) / "go", os.X_OK))


def test_cached_binary_is_found_200_times_without_a_rebuild(tmp_path):
    # The real binary, in a cache folder of our own; without Go on PATH any
    # run that decided to rebuild would exit 1 ("Go is required").
    (tmp_path / "bin").mkdir()
    cached = tmp_path / "bin" / f"ferretdb-{FERRETDB_VERSION}"
    cached.symlink_to(ferretdb_binary().resolve())
    environ = dict(os.environ, MAKECHAT_CACHE=str(tmp_path), PATH=path_without_go())
    outcomes = []
    for _ in range(200):
        result = subprocess.run(["bash", str(BUILD_SCRIPT)], env=environ, capture_output=True,
                                text=True, timeout=60)
        outcomes.append((result.returncode, result.stdout.strip(), result.stderr.strip()))
    failures = [outcome for outcome in outcomes if outcome != (0, str(cached), "")]
    assert failures == []
    assert sorted(path.name for path in (tmp_path / "bin").iterdir()) == [cached.name]


def test_wrong_version_in_cache_is_not_taken(tmp_path):
    # A binary that answers another version must not pass the check.
    (tmp_path / "bin").mkdir()
    impostor = tmp_path / "bin" / f"ferretdb-{FERRETDB_VERSION}"
    impostor.write_text("#!/bin/sh\necho 'version: v0.0.1'\n")
    impostor.chmod(0o755)
    environ = dict(os.environ, MAKECHAT_CACHE=str(tmp_path), PATH=path_without_go())
    result = subprocess.run(["bash", str(BUILD_SCRIPT)], env=environ, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert "Go is required" in result.stderr
