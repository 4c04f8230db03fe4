"""/api/login, /api/register and /api/logout."""

import falcon

from makechat import accounts
from makechat.auth import burn_password_check, check_password, issue_token
from makechat.models import signal_user
from makechat.resources.operation import operation
from makechat.throttle import Rule
from makechat.validation import EMAIL, PASSWORD, USERNAME, object_schema

LOGIN_SCHEMA = object_schema({"username": {"type": "string", "maxLength": 254},
                              "password": {"type": "string", "maxLength": 1024}},
                             required=("username", "password"))
REGISTER_SCHEMA = object_schema({"username": USERNAME, "email": EMAIL, "password": PASSWORD},
                                required=("username", "email", "password"))

BAD_CREDENTIALS = dict(title="Not authenticated",
                       description="The username or password is incorrect.")


class LoginResource:
    """POST /api/login: trade a username and password for a token."""

    def __init__(self, config, limiter, proxies):
        self.config = config
        self.limiter = limiter
        self.proxies = proxies

    @operation(
        "Log in: trade a username and password for a token", auth="none", body=LOGIN_SCHEMA,
        responses={200: "logged in: the token is in the body, shown this once",
                   400: "a parameter is missing, unknown or not a string",
                   401: "the username or password is incorrect, or the account is disabled",
                   429: "too many failed logins for this username from this address, from "
                        "this address, or (from an address it never logged in from) for "
                        "this username; see Retry-After"},
        schemas={200: "Session"},
        description="The token goes in the `X-Auth-Token` header of every later request.",
        tag="session")
    def on_post(self, req, resp):
        body = req.context.body
        username_key = body["username"].lower()
        address = self.proxies.client_address(req)
        user = accounts.find_user(body["username"])
        claims = self.limiter.begin(username_key, address, user)
        if user is None:
            burn_password_check(body["password"], self.config.bcrypt_rounds)
            ok = False
        else:
            ok = check_password(body["password"], user.password) and user.is_active
        if not ok:
            raise falcon.HTTPUnauthorized(challenges=['Token header="X-Auth-Token"'],
                                          **BAD_CREDENTIALS)
        self.limiter.succeeded(claims, user, username_key, address)
        token, secret = issue_token(user, name="login", make_room=True,
                                    max_tokens=self.config.max_tokens_per_user)
        resp.media = {"token": secret, "token_id": token.id, "user": user.to_public()}


class RegisterResource:
    """/api/register: anyone may create an account while registration is open,
    at most register_max_per_address times per register_window per address."""

    def __init__(self, config, throttle, proxies):
        self.config = config
        self.throttle = throttle
        self.proxies = proxies
        self.rule = Rule("register", config.register_max_per_address, config.register_window,
                         "Too many registrations")

    @operation("Is registration open on this server?", auth="none",
               responses={200: "'open' or 'closed' (the `registration` setting)"},
               schemas={200: "Registration"}, tag="session")
    def on_get(self, req, resp):
        """Say whether anyone may register here (clients hide the form if not)."""
        resp.media = {"registration": self.config.registration}

    @operation(
        "Create an account and log in", auth="none", body=REGISTER_SCHEMA,
        responses={201: "the account exists and the token is in the body",
                   400: "a parameter is missing, unknown, or breaks its rule",
                   403: "registration is closed on this server (`registration = closed`)",
                   409: "the username (or one that looks like it) or the email is already "
                        "taken",
                   429: "too many registrations from this address "
                        "(`register_max_per_address`)"},
        schemas={201: "Session"}, tag="session")
    def on_post(self, req, resp):
        if not self.config.registration_open:
            raise falcon.HTTPForbidden(title="Registration closed",
                                       description="Accounts are created by an admin here.")
        body = req.context.body
        # NOTE: counted before the name is checked, so probing which names
        # are taken costs as much as registering.
        self.throttle.claim([(self.rule, self.proxies.client_address(req))])
        user = accounts.create_user(body["username"], body["email"], body["password"],
                                    rounds=self.config.bcrypt_rounds)
        token, secret = issue_token(user, name="register",
                                    max_tokens=self.config.max_tokens_per_user)
        resp.status = falcon.HTTP_201
        resp.media = {"token": secret, "token_id": token.id, "user": user.to_public()}


class LogoutResource:
    """POST /api/logout: revoke the token the request was made with."""

    @operation("Log out: revoke the token of this request",
               responses={204: "the token is revoked"}, tag="session")
    def on_post(self, req, resp):
        req.context.token.delete()
        signal_user(req.context.user.id)  # a stream running on it ends
        resp.status = falcon.HTTP_204
