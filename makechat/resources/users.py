"""/api/users: the caller's profile, finding a user, and account administration."""

import falcon

from makechat import accounts
from makechat.auth import check_password
from makechat.ids import parse_id
from makechat.resources.operation import LINK, PAGING, location, operation, send_page, string
from makechat.throttle import Rule
from makechat.validation import EMAIL, PASSWORD, USERNAME, object_schema

ME_PATCH_SCHEMA = object_schema({"email": EMAIL, "password": PASSWORD,
                                 "current_password": {"type": "string", "maxLength": 1024}})
USER_CREATE_SCHEMA = object_schema({"username": USERNAME, "email": EMAIL, "password": PASSWORD,
                                    "is_superuser": {"type": "boolean"},
                                    "is_active": {"type": "boolean"}},
                                   required=("username", "email", "password"))
USER_PATCH_SCHEMA = object_schema({"email": EMAIL, "password": PASSWORD,
                                   "is_superuser": {"type": "boolean"},
                                   "is_active": {"type": "boolean"}})


class MeResource:
    def __init__(self, config, throttle):
        self.config = config
        self.throttle = throttle
        # A stolen token must not become a password oracle: guesses of the
        # current password are limited like logins.
        self.guesses = Rule("password-check", config.login_max_failures_per_user_address,
                            config.login_window, "Too many wrong passwords")

    @operation("Your own profile", responses={200: "your profile"}, schemas={200: "User"},
               tag="users")
    def on_get(self, req, resp):
        """Return the caller's profile."""
        resp.media = req.context.user.full().to_public()

    @operation(
        "Change your email or password", body=ME_PATCH_SCHEMA,
        responses={200: "changed; a new password revokes every other token of yours",
                   400: "a parameter is unknown or breaks its rule, or 'current_password' is "
                        "missing or wrong",
                   409: "the email is already in use",
                   429: "too many wrong 'current_password' guesses; see Retry-After"},
        schemas={200: "User"},
        description="Changing the email or the password needs `current_password`; wrong "
                    "guesses are limited like logins.", tag="users", scope="account")
    def on_patch(self, req, resp):
        """Change the caller's email or password; both need the current password."""
        body = req.context.body
        user = req.context.user.full()
        if "password" in body or "email" in body:
            self._check_current(user, body.get("current_password"))
        if "email" in body:
            accounts.set_email(user, body["email"])
        if "password" in body:
            accounts.set_password(user, body["password"], rounds=self.config.bcrypt_rounds,
                                  keep_token=req.context.token)
        resp.media = user.to_public()

    def _check_current(self, user, current):
        if current is None:
            raise falcon.HTTPBadRequest(
                title="Missing parameter",
                description="The 'current_password' parameter is required to change "
                            "your email or password.")
        claims = self.throttle.claim([(self.guesses, str(user.id))])
        if not check_password(current, user.password):
            raise falcon.HTTPBadRequest(
                title="Invalid parameter",
                description="The 'current_password' parameter must be your current password.")
        claims.release()


class UserLookupResource:
    @operation(
        "Find a user by exact username (any signed-in user)",
        query=(string("username", "The username, in any case.", required=True),),
        responses={200: "their id and username, nothing else",
                   400: "'username' is missing",
                   404: "no active user has this username"},
        schemas={200: "UserName"},
        description="For adding someone to a room; the username matches in any case.",
        tag="users", scope="rooms:read")
    def on_get(self, req, resp):
        """Find one active user by exact username (any case), for any signed-in
        user: their id and username, nothing else (to add them to a room)."""
        resp.media = accounts.lookup(req.context.query["username"])


class UsersResource:
    def __init__(self, config):
        self.config = config

    @operation("List every account (admin)", auth="admin", query=PAGING,
               responses={200: "the accounts, oldest first"}, schemas={200: "User[]"},
               response_headers=LINK, tag="users")
    def on_get(self, req, resp):
        """List every account (admin)."""
        query = req.context.query
        send_page(req, resp, accounts.list_users(query["after"], query["limit"]))

    @operation(
        "Create an account (admin)", auth="admin", body=USER_CREATE_SCHEMA,
        responses={201: "created; Location names the new account",
                   400: "a parameter is missing, unknown, or breaks its rule",
                   409: "the username or the email is already taken"},
        schemas={201: "User"}, response_headers=location("new account"), tag="users")
    def on_post(self, req, resp):
        """Create an account (admin)."""
        body = req.context.body
        user = accounts.create_user(
            body["username"], body["email"], body["password"],
            rounds=self.config.bcrypt_rounds,
            is_superuser=body.get("is_superuser", False),
            is_active=body.get("is_active", True))
        resp.status = falcon.HTTP_201
        resp.location = f"/api/users/{user.id}"
        resp.media = user.to_public()


class UserResource:
    def __init__(self, config):
        self.config = config

    @operation("One account (admin)", auth="admin",
               responses={200: "the account", 404: "no such account"}, schemas={200: "User"},
               tag="users")
    def on_get(self, req, resp, user_id):
        """Return one account (admin)."""
        resp.media = accounts.get_user(parse_id(user_id)).to_public()

    @operation(
        "Enable, disable, promote, demote or reset an account (admin)", auth="admin",
        body=USER_PATCH_SCHEMA,
        responses={200: "changed; disabling an account revokes its tokens",
                   400: "a parameter is unknown or breaks its rule",
                   404: "no such account",
                   409: "the email is in use, or an admin tried to disable or demote "
                        "themselves"},
        schemas={200: "User"}, tag="users")
    def on_patch(self, req, resp, user_id):
        """Enable, disable, promote, demote, or reset an account (admin)."""
        user = accounts.update_user(req.context.user, parse_id(user_id), req.context.body,
                                    rounds=self.config.bcrypt_rounds)
        resp.media = user.to_public()
