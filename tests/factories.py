"""One-line factories for users, tokens, rooms, members and messages."""

import itertools

from makechat import accounts
from makechat.auth import issue_token

_counter = itertools.count(1)

DEFAULT_PASSWORD = "correct horse battery"


class UserFactory:
    """make_user(admin=True) -> User with a .secret token and .password."""

    def __init__(self, config):
        self.config = config

    def __call__(self, username=None, password=DEFAULT_PASSWORD, email=None, admin=False,
                 active=True):
        number = next(_counter)
        username = username or f"user{number}"
        user = accounts.create_user(username, email or f"{username}@example.com", password,
                                    rounds=self.config.bcrypt_rounds, is_superuser=admin)
        _, user.secret = issue_token(user, "test", max_tokens=self.config.max_tokens_per_user)
        if not active:
            accounts.set_active(user, False)  # its token is revoked with it
        user.plain_password = password
        return user


class ApiClient:
    """Wraps a WebTest app; every call sends JSON and never raises on status."""

    def __init__(self, app, secret=None):
        self.app = app
        self.secret = secret

    def as_user(self, user):
        return ApiClient(self.app, user.secret)

    def _headers(self, headers):
        merged = {"Accept": "application/json"}
        if self.secret:
            merged["X-Auth-Token"] = self.secret
        merged.update(headers or {})
        return merged

    def get(self, path, params=None, headers=None):
        return self.app.get(path, params=params, headers=self._headers(headers),
                            expect_errors=True)

    def delete(self, path, headers=None):
        return self.app.delete(path, headers=self._headers(headers), expect_errors=True)

    def post(self, path, body=None, headers=None):
        return self._send("post_json", path, body, headers)

    def put(self, path, body=None, headers=None):
        return self._send("put_json", path, body, headers)

    def patch(self, path, body=None, headers=None):
        return self._send("patch_json", path, body, headers)

    def _send(self, method, path, body, headers):
        if body is None:
            plain = method.replace("_json", "")
            return getattr(self.app, plain)(path, headers=self._headers(headers),
                                            expect_errors=True)
        return getattr(self.app, method)(path, body, headers=self._headers(headers),
                                         expect_errors=True)


def limited(api, user, rooms, scopes=None):
    """A client of ``user`` whose token reaches only ``rooms`` (ids as text)."""
    from bson import ObjectId
    _, secret = issue_token(user, "limited", max_tokens=100, scopes=scopes,
                            rooms=[ObjectId(room) for room in rooms])
    return ApiClient(api.app, secret)
