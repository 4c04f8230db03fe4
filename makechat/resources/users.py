"""/api/users: the caller's profile, and account administration."""

import falcon

from makechat import accounts
from makechat.auth import check_password
from makechat.hooks import require_admin, require_token
from makechat.ids import id_or_404
from makechat.models import Token, User
from makechat.paging import page_by_id
from makechat.throttle import Rule
from makechat.validation import EMAIL, PASSWORD, USERNAME, object_schema, validate

ME_PATCH_SCHEMA = object_schema({"email": EMAIL, "password": PASSWORD,
                                 "current_password": {"type": "string", "maxLength": 1024}})
USER_CREATE_SCHEMA = object_schema({"username": USERNAME, "email": EMAIL, "password": PASSWORD,
                                    "is_superuser": {"type": "boolean"},
                                    "is_active": {"type": "boolean"}},
                                   required=("username", "email", "password"))
USER_PATCH_SCHEMA = object_schema({"email": EMAIL, "password": PASSWORD,
                                   "is_superuser": {"type": "boolean"},
                                   "is_active": {"type": "boolean"}})


@falcon.before(require_token)
class MeResource:
    def __init__(self, config, throttle):
        self.config = config
        self.throttle = throttle
        # A stolen token must not become a password oracle: guesses of the
        # current password are limited like logins.
        self.guesses = Rule("password-check", config.login_max_failures_per_user_address,
                            config.login_window, "Too many wrong passwords")

    def on_get(self, req, resp):
        """Return the caller's profile."""
        resp.media = req.context.user.to_public()

    def on_patch(self, req, resp):
        """Change the caller's email or password; both need the current password."""
        body = validate(req.context.body, ME_PATCH_SCHEMA)
        user = req.context.user
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


@falcon.before(require_token)
class UserLookupResource:
    def on_get(self, req, resp):
        """Find one active user by exact username (any case), for any signed-in
        user: their id and username, nothing else (to add them to a room)."""
        user = accounts.find_user(req.get_param("username", required=True))
        if user is None or not user.is_active:
            raise falcon.HTTPNotFound(title="Not found", description="No such user.")
        resp.media = {"_id": user.id, "username": user.username}


@falcon.before(require_token)
@falcon.before(require_admin)
class UsersResource:
    def __init__(self, config):
        self.config = config

    def on_get(self, req, resp):
        """List every account (admin)."""
        resp.media = [user.to_public() for user in page_by_id(User.objects, req, resp)]

    def on_post(self, req, resp):
        """Create an account (admin)."""
        body = validate(req.context.body, USER_CREATE_SCHEMA)
        user = accounts.create_user(
            body["username"], body["email"], body["password"],
            rounds=self.config.bcrypt_rounds,
            is_superuser=body.get("is_superuser", False),
            is_active=body.get("is_active", True))
        resp.status = falcon.HTTP_201
        resp.location = f"/api/users/{user.id}"
        resp.media = user.to_public()


@falcon.before(require_token)
@falcon.before(require_admin)
class UserResource:
    def __init__(self, config):
        self.config = config

    def _get(self, user_id):
        user = User.objects(id=id_or_404(user_id, "user")).first()
        if user is None:
            raise falcon.HTTPNotFound(title="Not found", description="No such user.")
        return user

    def on_get(self, req, resp, user_id):
        """Return one account (admin)."""
        resp.media = self._get(user_id).to_public()

    def on_patch(self, req, resp, user_id):
        """Enable, disable, promote, demote, or reset an account (admin)."""
        body = validate(req.context.body, USER_PATCH_SCHEMA)
        user = self._get(user_id)
        if user.id == req.context.user.id and (body.get("is_active") is False
                                               or body.get("is_superuser") is False):
            raise falcon.HTTPConflict(
                title="Not allowed on yourself",
                description="An admin cannot disable or demote their own account; "
                            "ask another admin.")
        if "email" in body:
            accounts.set_email(user, body["email"])
        if "password" in body:
            accounts.set_password(user, body["password"], rounds=self.config.bcrypt_rounds)
        for field in ("is_active", "is_superuser"):
            if field in body:
                setattr(user, field, body[field])
        user.save()
        if body.get("is_active") is False:
            # SECURITY: a disabled account's tokens are revoked, not just refused.
            Token.objects(owner=user.id).delete()
        resp.media = user.to_public()
