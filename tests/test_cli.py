"""The makechat command line, run in-process and as a real process."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from makechat.auth import check_password
from makechat.cli import Env, run
from makechat.models import User

MAKECHAT = str(Path(sys.executable).with_name("makechat"))


@pytest.fixture
def env(config):
    environ = {"MAKECHAT_MONGO_URI": config.mongo_uri, "MAKECHAT_BCRYPT_ROUNDS": "4"}
    return Env(stdout=io.StringIO(), stderr=io.StringIO(), stdin=io.StringIO(), environ=environ)


def test_user_create(env):
    status = run(["user", "create", "-u", "test_user", "-p", "test_pass", "-e",
                  "test@example.com"], env)
    assert status == 0
    user = User.objects.get(username="test_user")
    assert user.is_superuser is False
    assert check_password("test_pass", user.password)


def test_user_create_admin(env):
    assert run(["user", "create", "-u", "admin", "-p", "admin_pass", "-e",
                "admin@example.com", "-admin"], env) == 0
    assert User.objects.get(username="admin").is_superuser is True


def test_user_create_password_from_stdin(env):
    env.stdin = io.StringIO("from stdin pass\n")
    assert run(["user", "create", "-u", "bob", "-p", "-", "-e", "bob@example.com"], env) == 0
    assert check_password("from stdin pass", User.objects.get(username="bob").password)


def test_user_create_taken_name_fails_one_line(env, make_user):
    make_user("alice")
    status = run(["user", "create", "-u", "alice", "-p", "long enough", "-e", "a2@example.com"],
                 env)
    assert status == 1
    assert env.stderr.getvalue().count("\n") == 1
    assert "already taken" in env.stderr.getvalue()


def test_user_changepass(env, make_user):
    make_user("alice")
    assert run(["user", "changepass", "-u", "alice", "-p", "brand new pass"], env) == 0
    assert check_password("brand new pass", User.objects.get(username="alice").password)


def test_user_changepass_unknown_user_fails(env):
    assert run(["user", "changepass", "-u", "ghost", "-p", "brand new pass"], env) == 1
    assert "no user named 'ghost'" in env.stderr.getvalue()


def test_unreachable_database_one_line_no_traceback():
    environ = dict(os.environ, MAKECHAT_MONGO_URI="mongodb://127.0.0.1:9/makechat",
                   MAKECHAT_DB_TIMEOUT="0.5")
    result = subprocess.run([MAKECHAT, "user", "create", "-u", "x_user", "-p", "long enough",
                             "-e", "x@example.com"], env=environ, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "cannot reach the database" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_user_help_lists_both_actions():
    result = subprocess.run([MAKECHAT, "user", "-h"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert "{create,changepass}" in result.stdout
    assert "create a new user" in result.stdout and "change user password" in result.stdout


def test_user_create_help_matches_manual():
    result = subprocess.run([MAKECHAT, "user", "create", "-h"], capture_output=True, text=True,
                            timeout=30)
    assert "usage: makechat user create [-h] -u USERNAME -p PASSWORD -e EMAIL [-admin]" \
        in result.stdout
