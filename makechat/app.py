"""The application factory: the one place that lists every route,
middleware and error handler."""

import falcon

from makechat import db, errors
from makechat.auth import LoginLimiter, TrustedProxies
from makechat.chat import MessageStore
from makechat.media import JSON_UTF8, json_handlers
from makechat.middleware import EnsureIndexes, JSONDiscipline, RequestId
from makechat.resources import (docs, health, members, messages, openapi, rooms, session,
                                 tokens, users, webclient)
from makechat.watcher import RoomWatcher


def create_app(config):
    """Return the WSGI app for this config. Connects lazily: nothing touches the
    database until the first request."""
    db.connect(config)
    app = falcon.App(media_type=JSON_UTF8, middleware=[
        RequestId(),
        JSONDiscipline(max_body=config.max_body),
        EnsureIndexes(db.IndexGate()),
    ])
    # NOTE: responses only: JSONDiscipline parses request bodies itself.
    app.resp_options.media_handlers.update(json_handlers())
    app.req_options.strip_url_path_trailing_slash = True
    errors.register(app)

    limiter = LoginLimiter(config)
    proxies = TrustedProxies(config.trusted_proxies)

    app.add_route("/api/login", session.LoginResource(config, limiter, proxies))
    app.add_route("/api/register", session.RegisterResource(config))
    app.add_route("/api/logout", session.LogoutResource())
    app.add_route("/api/tokens", tokens.TokensResource())
    app.add_route("/api/tokens/{token_id}", tokens.TokenResource())
    app.add_route("/api/users", users.UsersResource(config))
    app.add_route("/api/users/me", users.MeResource(config))
    app.add_route("/api/users/{user_id}", users.UserResource(config))

    watcher = RoomWatcher(config.poll_interval, advance=None)
    store = MessageStore(config.gap_timeout, on_commit=watcher.notify)
    watcher.advance = store.advance
    app.add_route("/api/rooms", rooms.RoomsResource())
    app.add_route("/api/rooms/{room_id}", rooms.RoomResource())
    app.add_route("/api/members", members.MembersResource())
    app.add_route("/api/members/{member_id}", members.MemberResource())
    app.add_route("/api/messages", messages.MessagesResource(config, store, watcher))
    app.add_route("/api/messages/{message_id}", messages.MessageResource(config, store))
    app.add_route("/api/openapi.json", openapi.OpenAPIResource(app))
    app.add_route("/api/health", health.HealthResource(config))

    # The browser client, at / for local use and under /makechat/ like nginx
    # serves it; pages and assets only, so nothing here shadows /api.
    web = webclient.web_root(config)
    for prefix in ("", "/makechat"):
        app.add_route(prefix or "/", webclient.PageResource(web / "index.html"))
        app.add_route(f"{prefix}/admin", webclient.PageResource(web / "admin.html"))
        app.add_static_route(f"{prefix}/assets", str(web / "assets"))
    app.add_sink(docs.DocsSink(docs.docs_root(config)), docs.PREFIX)
    return app
