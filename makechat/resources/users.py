"""/api/users: the caller's profile, and account administration."""

import falcon

from makechat import accounts
from makechat.auth import check_password
from makechat.hooks import require_admin, require_token
from makechat.ids import id_or_404
from makechat.models import Token, User
from makechat.paging import page_by_id
from makechat.resources.session import conflict
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


def bad_request(error):
    return falcon.HTTPBadRequest(title="Invalid parameter", description=f"{str(error).capitalize()}.")


@falcon.before(require_token)
class MeResource:
    def __init__(self, config):
        self.config = config

    def on_get(self, req, resp):
        """Return the caller's profile."""
        resp.media = req.context.user.to_public()

    def on_patch(self, req, resp):
        """Change the caller's email or password (the password needs the current one)."""
        body = validate(req.context.body, ME_PATCH_SCHEMA)
        user = req.context.user
        if "password" in body:
            current = body.get("current_password")
            if not isinstance(current, str) or not check_password(current, user.password):
                raise falcon.HTTPBadRequest(
                    title="Invalid parameter",
                    description="The 'current_password' parameter must be your current password.")
        try:
            if "email" in body:
                accounts.set_email(user, body["email"])
            if "password" in body:
                accounts.set_password(user, body["password"], rounds=self.config.bcrypt_rounds,
                                      keep_token=req.context.token)
        except accounts.AccountConflict as error:
            raise conflict(error)
        except accounts.AccountError as error:
            raise bad_request(error)
        resp.media = user.to_public()


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
        try:
            user = accounts.create_user(
                body["username"], body["email"], body["password"],
                rounds=self.config.bcrypt_rounds,
                is_superuser=body.get("is_superuser", False),
                is_active=body.get("is_active", True))
        except accounts.AccountConflict as error:
            raise conflict(error)
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
        try:
            if "email" in body:
                accounts.set_email(user, body["email"])
            if "password" in body:
                accounts.set_password(user, body["password"], rounds=self.config.bcrypt_rounds)
        except accounts.AccountConflict as error:
            raise conflict(error)
        for field in ("is_active", "is_superuser"):
            if field in body:
                setattr(user, field, body[field])
        user.save()
        if body.get("is_active") is False:
            # SECURITY: a disabled account's tokens are revoked, not just refused.
            Token.objects(owner=user.id).delete()
        resp.media = user.to_public()
