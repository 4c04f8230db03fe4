"""The makechat command line, run in-process and as a real process."""

import argparse
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from makechat.auth import check_password
from makechat.cli import Env, build_parser, database_line, run, uri_database
from makechat.config import Config
from makechat.db import database_name
from makechat.models import Token, User

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
    # The line naming the database, then one error line.
    using, error = env.stderr.getvalue().splitlines()
    assert using.startswith("makechat: using database makechat_test at ")
    assert error == "makechat: error: Username 'alice' is already taken."


def test_user_create_bad_password_fails_before_connecting():
    # Nothing answers on port 9: only a command that never connects says one line.
    env = Env(stdout=io.StringIO(), stderr=io.StringIO(), stdin=io.StringIO(),
              environ={"MAKECHAT_MONGO_URI": "mongodb://127.0.0.1:9/makechat"})
    assert run(["user", "create", "-u", "alice", "-p", "short", "-e", "a@example.com"], env) == 1
    assert env.stderr.getvalue() == "makechat: error: The password must be 8 to 1024 characters.\n"


def test_user_create_names_database_and_config_file(config, tmp_path):
    conf = tmp_path / "makechat.conf"
    conf.write_text(f"[makechat]\nmongo_uri = {config.mongo_uri}\nbcrypt_rounds = 4\n")
    env = Env(stdout=io.StringIO(), stderr=io.StringIO(), stdin=io.StringIO(),
              environ={"MAKECHAT_CONFIG": str(conf)})
    assert run(["user", "create", "-u", "carol", "-p", "long enough", "-e", "c@example.com"],
               env) == 0
    address = config.mongo_uri.rsplit("/", 1)[0]
    assert env.stderr.getvalue() == (f"makechat: using database makechat_test at {address} "
                                     f"(config: {conf})\n")


def test_database_line_without_config_file_says_defaults_apply():
    assert database_line(Config(), {}) == (
        "using database makechat at mongodb://localhost:27017 "
        "(no config file found; defaults apply)")


def test_database_line_names_the_environment_variable():
    config = Config(mongo_uri="mongodb://db.example:27017/chat", source="/etc/makechat.conf")
    assert database_line(config, {"MAKECHAT_MONGO_URI": config.mongo_uri}) == (
        "using database chat at mongodb://db.example:27017 "
        "(from MAKECHAT_MONGO_URI; config: /etc/makechat.conf)")


def test_database_line_hides_password_and_options():
    config = Config(mongo_uri="mongodb://chat:hunter2-pass@db.example:27017/chat"
                              "?tlsCertificateKeyFilePassword=hunter3")
    line = database_line(config, {})
    assert "hunter" not in line
    assert "mongodb://chat:***@db.example:27017 " in line


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
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    using, error = result.stderr.splitlines()
    assert using.startswith("makechat: using database makechat at mongodb://127.0.0.1:9 ")
    assert error.startswith("makechat: error: cannot reach the database at "
                            "mongodb://127.0.0.1:9 within 0.5 s: 127.0.0.1:9: ")
    assert error.count("(") == error.count(")")


def test_user_help_lists_every_action():
    result = subprocess.run([MAKECHAT, "user", "-h"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert "{create,changepass,list,disable,enable,promote,demote}" in result.stdout
    assert "create a new user" in result.stdout and "change user password" in result.stdout


def command_parsers(parser=None, words=()):
    """Yield (words, parser) for every command and subcommand of the CLI."""
    parser = parser or build_parser()
    yield words, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from command_parsers(child, words + (name,))


@pytest.mark.parametrize("words", [words for words, _ in command_parsers()],
                         ids=lambda words: " ".join(words) or "makechat")
def test_help_carries_an_example(words):
    parser = dict(command_parsers())[words]
    assert "example" in parser.format_help()
    assert f"makechat {' '.join(words)}".rstrip() in parser.epilog


def test_user_create_double_dash_admin(env):
    assert run(["user", "create", "-u", "root2", "-p", "long enough", "-e", "r@example.com",
                "--admin"], env) == 0
    assert User.objects.get(username="root2").is_superuser is True


def test_user_list_shows_every_account_without_hashes(env, make_user):
    make_user("bob", admin=True)
    make_user("alice", active=False)
    assert run(["user", "list"], env) == 0
    header, alice, bob = env.stdout.getvalue().splitlines()
    assert header.split() == ["USERNAME", "EMAIL", "ROLE", "STATUS", "CREATED"]
    assert alice.split()[:4] == ["alice", "alice@example.com", "user", "disabled"]
    assert bob.split()[:4] == ["bob", "bob@example.com", "admin", "active"]
    assert "$2b$" not in env.stdout.getvalue()


def test_user_list_without_accounts_says_how_to_create_one(env):
    assert run(["user", "list"], env) == 0
    assert env.stdout.getvalue() == ""
    assert "makechat user create" in env.stderr.getvalue()


def test_user_disable_refuses_login_and_revokes_tokens(env, make_user, app):
    alice = make_user("alice")
    assert run(["user", "disable", "-u", "alice"], env) == 0
    assert env.stdout.getvalue() == "disabled alice; their tokens were revoked\n"
    assert User.objects.get(username="alice").is_active is False
    assert Token.objects(owner=alice.id).count() == 0
    login = app.post_json("/api/login", {"username": "alice", "password": alice.plain_password},
                          expect_errors=True)
    assert login.status_int in (401, 403)


def test_user_disable_unknown_user_fails_one_line(env):
    assert run(["user", "disable", "-u", "ghost"], env) == 1
    assert env.stderr.getvalue().splitlines()[1:] == ["makechat: error: no user named 'ghost'"]


def test_user_enable_lets_a_disabled_account_log_in(env, make_user, app):
    alice = make_user("alice", active=False)
    assert run(["user", "enable", "-u", "alice"], env) == 0
    login = app.post_json("/api/login", {"username": "alice", "password": alice.plain_password},
                          expect_errors=True)
    assert login.status_int == 200


def test_user_promote_makes_an_admin(env, make_user):
    make_user("alice")
    assert run(["user", "promote", "-u", "ALICE"], env) == 0
    assert env.stdout.getvalue() == "alice is now an admin\n"
    assert User.objects.get(username="alice").is_superuser is True


def test_user_demote_makes_a_plain_user(env, make_user):
    make_user("root", admin=True)
    make_user("alice", admin=True)
    assert run(["user", "demote", "-u", "alice"], env) == 0
    assert User.objects.get(username="alice").is_superuser is False
    assert "note:" not in env.stderr.getvalue()


def test_user_demote_last_admin_says_none_is_left(env, make_user):
    make_user("alice", admin=True)
    assert run(["user", "demote", "-u", "alice"], env) == 0
    assert "no enabled admin is left" in env.stderr.getvalue()


def test_user_promote_twice_says_so(env, make_user):
    make_user("alice", admin=True)
    assert run(["user", "promote", "-u", "alice"], env) == 0
    assert env.stdout.getvalue() == "alice was already an admin\n"


def test_user_create_help_matches_manual():
    result = subprocess.run([MAKECHAT, "user", "create", "-h"], capture_output=True, text=True,
                            timeout=30)
    assert "usage: makechat user create [-h] -u USERNAME -p PASSWORD -e EMAIL [-admin]" \
        in result.stdout


@pytest.mark.parametrize("uri", ["mongodb://localhost:27017/makechat",
                                 "mongodb://u:p%40ss@h1:1,h2:2/chat_db?replicaSet=rs0",
                                 "mongodb://localhost", "mongodb://localhost/?journal=true",
                                 "mongodb://h/na%6De"])
def test_uri_database_reads_the_name_as_pymongo_does(uri):
    assert uri_database(uri) == database_name(uri)
