"""``makechat bot ...`` and ``makechat token ...``."""

import io

import pytest

from makechat.auth import user_for_token
from makechat.cli import Env, run
from makechat.models import Room, User


@pytest.fixture
def env(config):
    environ = {"MAKECHAT_MONGO_URI": config.mongo_uri, "MAKECHAT_BCRYPT_ROUNDS": "4"}
    return Env(stdout=io.StringIO(), stderr=io.StringIO(), stdin=io.StringIO(), environ=environ)


def test_bot_create_makes_a_bot_with_an_owner(env, bob):
    assert run(["bot", "create", "ci-bot", "--owner", "bob"], env) == 0, env.stderr.getvalue()
    bot = User.objects(username="ci-bot").first()
    assert bot.is_bot and bot.bot_owner == bob.id
    assert "created bot ci-bot, owned by bob" in env.stdout.getvalue()


def test_bot_create_with_a_taken_name_fails_one_line(env, bob):
    assert run(["bot", "create", "bob"], env) == 1
    assert env.stderr.getvalue().splitlines()[-1].startswith("makechat: error: Username")


def test_bot_list_shows_bots_and_owners(env, bob):
    run(["bot", "create", "ci-bot", "--owner", "bob"], env)
    env.stdout.truncate(0)
    assert run(["bot", "list"], env) == 0
    assert "ci-bot  bob  active" in env.stdout.getvalue()


def test_token_create_prints_only_the_secret_on_stdout(env, admin):
    room = Room(name="builds", name_key="builds", created_by=admin.id)
    room.save()
    run(["bot", "create", "ci-bot"], env)
    env.stdout.seek(0)
    env.stdout.truncate(0)
    status = run(["token", "create", "--user", "ci-bot", "--scope", "messages:write",
                  "--room", "builds", "--expires", "90d"], env)
    assert status == 0, env.stderr.getvalue()
    secret = env.stdout.getvalue().strip()
    caller, token = user_for_token(secret)
    assert caller.username == "ci-bot" and caller.is_bot
    assert caller.scopes == {"messages:write"} and caller.rooms == {room.id}
    assert "until 20" in env.stderr.getvalue()


def test_token_create_refuses_a_bad_duration(env, admin):
    assert run(["token", "create", "--user", "admin", "--expires", "soon"], env) == 1
    assert "like 90d" in env.stderr.getvalue()


def test_token_create_refuses_an_unknown_room(env, admin):
    assert run(["token", "create", "--user", "admin", "--room", "nowhere"], env) == 1
    assert "no room named 'nowhere'" in env.stderr.getvalue()


def test_token_list_shows_scopes_without_secrets(env, admin):
    run(["token", "create", "--user", "admin", "--scope", "admin", "--name", "script"], env)
    secret = env.stdout.getvalue().strip()
    env.stdout.seek(0)
    env.stdout.truncate(0)
    assert run(["token", "list", "--user", "admin"], env) == 0
    listing = env.stdout.getvalue()
    assert "script  scopes=admin  rooms=*" in listing and secret not in listing
