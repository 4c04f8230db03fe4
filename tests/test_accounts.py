"""makechat/accounts.py: the rules every account obeys, API or CLI."""

import pytest

from makechat import accounts
from makechat.models import User


@pytest.mark.parametrize("username", ["alice\n", "al", "a" * 33, "al ice", "alice\x00"])
def test_create_user_bad_username_refused(config, username):
    with pytest.raises(accounts.AccountError):
        accounts.create_user(username, "a@example.com", "long enough", rounds=4)
    assert User.objects.count() == 0


@pytest.mark.parametrize("email", ["a@example.com\n", "a@b", "a b@example.com",
                                   "a@exa\tmple.com", "@example.com"])
def test_create_user_bad_email_refused(config, email):
    with pytest.raises(accounts.AccountError):
        accounts.create_user("alice", email, "long enough", rounds=4)
    assert User.objects.count() == 0


def test_create_user_taken_name_any_case_conflict(config, make_user):
    make_user("alice")
    with pytest.raises(accounts.AccountConflict):
        accounts.create_user("ALICE", "other@example.com", "long enough", rounds=4)
