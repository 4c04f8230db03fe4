"""pyproject.toml and the Makefile: what gets installed (quietly), and what `make run` runs."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def make_dry_run(target, venv, *variables, environ=None):
    """The commands `make TARGET` would run on a machine with no virtualenv yet."""
    result = subprocess.run(["make", "-n", target, f"VENV={venv}", *variables], cwd=ROOT,
                            capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, **(environ or {})))
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_run_installs_no_test_extra(tmp_path):
    commands = make_dry_run("run", tmp_path / "venv")
    assert "pip install -q -e .\n" in commands
    assert "[test]" not in commands


def test_test_installs_the_test_extra(tmp_path):
    assert "pip install -q -e '.[test]'" in make_dry_run("test", tmp_path / "venv")


@pytest.mark.slow
def test_wheel_builds_without_setuptools_warnings_and_ships_the_web_client(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w",
                             str(tmp_path), str(ROOT)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "is absent from the `packages` configuration" not in output
    assert "Warning" not in output
    [wheel] = tmp_path.glob("makechat-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    web = {path.relative_to(ROOT).as_posix() for path in (ROOT / "makechat" / "web").rglob("*")
           if path.is_file()}
    assert web and web <= names


def test_run_port_argument_reaches_the_launcher(tmp_path):
    commands = make_dry_run("run", tmp_path / "venv", "PORT=8181")
    assert "-m devdb --var var --port 8181" in commands


def test_run_ignores_a_port_variable_of_the_environment(tmp_path):
    # PORT is set by many hosting tools; only `make run PORT=...` (or
    # MAKECHAT_PORT, read by the launcher) chooses the port.
    commands = make_dry_run("run", tmp_path / "venv", environ={"PORT": "5000"})
    [launch] = [line for line in commands.splitlines() if "-m devdb" in line]
    assert launch.split()[-2:] == ["--var", "var"]


@pytest.mark.slow
def test_editable_install_prints_nothing(tmp_path):
    """What `make run` does on a fresh clone, less the dependencies: quietly.
    The install runs this virtualenv's pip (as upgraded by make), into a new one."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")],
                   check=True, timeout=300)
    result = subprocess.run([sys.executable, "-m", "pip", "--python",
                             str(tmp_path / "venv" / "bin" / "python"), "install", "-q",
                             "--no-deps", "-e", str(ROOT)], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    # pip's own notice that a newer pip exists is not ours to silence.
    lines = [line for line in (result.stdout + result.stderr).splitlines()
             if line.strip() and not line.startswith("[notice]")]
    assert lines == []


def test_bench_installs_the_bench_extra_and_runs_the_benchmark(tmp_path):
    commands = make_dry_run("bench", tmp_path / "venv", "BENCH_ARGS=--smoke")
    assert "pip install -q -e '.[bench]'" in commands
    assert "bench/run.py --smoke" in commands
    assert "[test]" not in commands
