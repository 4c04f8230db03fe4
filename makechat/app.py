"""The application factory: the one place that lists every route,
middleware and error handler."""

import falcon

from makechat import db, errors
from makechat.bots.incoming import Incoming
from makechat.bots.outbox import Outbox
from makechat.bots.webhooks import Webhooks
from makechat.chat.dms import DirectMessages
from makechat.chat.messagelog import MessageStore
from makechat.chat.messaging import Messaging
from makechat.chat.reactions import Reactions
from makechat.chat.readstate import ReadState
from makechat.chat.rooms import Rooms
from makechat.chat.streams import Streams
from makechat.chat.watcher import RoomWatcher, WaitQuota
from makechat.logins import LoginLimiter, TrustedProxies
from makechat.media import JSON_UTF8, json_handlers
from makechat.middleware import EnsureIndexes, JSONDiscipline, RequestId, Services
from makechat.ratelimit import RateLimiter
from makechat.resources import (
    bots,
    dms,
    docs,
    events,
    health,
    members,
    mentions,
    messages,
    openapi,
    reactions,
    rooms,
    search,
    session,
    tokens,
    users,
    webclient,
    webhooks,
)
from makechat.resources import incoming as incoming_resources
from makechat.throttle import Throttle


def rate_limiter(config):
    """The app's rate limits (makechat.ratelimit), from the settings."""
    window = config.post_rate_window
    return RateLimiter({
        "post": (config.post_rate_limit, window,
                 f"posts per {window} seconds with one token"),
        "hook": (config.incoming_webhook_rate_limit, window,
                 f"posts per {window} seconds through one webhook"),
        "search": (config.search_rate_limit, window,
                   f"searches per {window} seconds with one token"),
    })


def create_app(config, background=False):
    """Return the WSGI app for this config. Connects lazily: nothing touches the
    database until the first request. With ``background`` (a server's
    process, not a test's app) the outbox delivers outgoing webhooks."""
    db.connect(config)
    proxies = TrustedProxies(config.trusted_proxies)
    # A mark learnt within two polls is fresh enough to read up to.
    store = MessageStore(config.gap_timeout, mark_ttl=2 * config.poll_interval)
    gate = db.IndexGate(outgrown_at=config.embedded_max_messages,
                        on_server=lambda atomic: setattr(store, "trust_counter", atomic))
    app = falcon.App(media_type=JSON_UTF8, middleware=[
        RequestId(),
        JSONDiscipline(max_body=config.max_body, max_depth=config.max_json_depth,
                       body_timeout=config.body_timeout,
                       max_readers=config.max_body_reads_per_address,
                       client_address=proxies.client_address,
                       event_streams=("/api/events",), raw_bodies=("/hooks/",)),
        EnsureIndexes(gate),
        Services(rate_limiter=rate_limiter(config)),
    ])
    # NOTE: responses only: JSONDiscipline parses request bodies itself.
    app.resp_options.media_handlers.update(json_handlers())
    app.req_options.strip_url_path_trailing_slash = True
    errors.register(app)

    throttle = Throttle()
    limiter = LoginLimiter(config, throttle)

    app.add_route("/api/login", session.LoginResource(config, limiter, proxies))
    app.add_route("/api/register", session.RegisterResource(config, throttle, proxies))
    app.add_route("/api/logout", session.LogoutResource())
    app.add_route("/api/tokens", tokens.TokensResource(config))
    app.add_route("/api/tokens/{token_id}", tokens.TokenResource())
    app.add_route("/api/users", users.UsersResource(config))
    app.add_route("/api/users/me", users.MeResource(config, throttle))
    app.add_route("/api/users/lookup", users.UserLookupResource())
    app.add_route("/api/users/{user_id}", users.UserResource(config))
    app.add_route("/api/bots", bots.BotsResource())
    app.add_route("/api/bots/{bot_id}", bots.BotResource())
    app.add_route("/api/bots/{bot_id}/tokens", bots.BotTokensResource(config))

    # One way: the watcher calls the store (to unstick a dead writer's gap);
    # Messaging tells the watcher about this process's posts.
    watcher = RoomWatcher(config.poll_interval, advance=store.advance,
                          remember=store.remember_mark)
    quota = WaitQuota(config.max_waiting_per_user)
    messaging = Messaging(store, watcher, quota,
                          mention_room_max_members=config.mention_room_max_members)
    read_state = ReadState(store)
    room_service = Rooms(store, read_state, on_change=watcher.notify)
    app.add_route("/api/rooms", rooms.RoomsResource(room_service))
    app.add_route("/api/rooms/{room_id}", rooms.RoomResource(room_service))
    app.add_route("/api/rooms/{room_id}/events", events.RoomEventsResource(config, messaging))
    app.add_route("/api/rooms/{room_id}/read", events.ReadResource(read_state))
    app.add_route("/api/events", events.EventsResource(config, Streams(store, watcher), quota))
    app.add_route("/api/members", members.MembersResource(room_service))
    app.add_route("/api/members/{member_id}", members.MemberResource(room_service))
    app.add_route("/api/messages", messages.MessagesResource(config, messaging))
    app.add_route("/api/messages/{message_id}", messages.MessageResource(config, messaging))
    # Conversations (docs/conversations.rst).
    app.add_route("/api/dms", dms.DMsResource(config, DirectMessages(
        room_service, allow=config.allow_dms, max_users=config.max_dm_users)))
    app.add_route("/api/mentions", mentions.MentionsResource())
    app.add_route("/api/search", search.SearchResource(config))
    app.add_route("/api/messages/{message_id}/reactions/{emoji}",
                  reactions.ReactionResource(Reactions(
                      store, watcher, max_per_user=config.max_reactions_per_user)))
    incoming = Incoming(store, watcher, config.max_message_length,
                        config.mention_room_max_members)
    hooks = Webhooks(config, room_service, store)
    app.add_route("/api/webhooks/incoming", webhooks.IncomingWebhooksResource(hooks))
    app.add_route("/api/webhooks/incoming/{hook_id}", webhooks.IncomingWebhookResource(hooks))
    app.add_route("/api/webhooks/outgoing", webhooks.OutgoingWebhooksResource(hooks))
    app.add_route("/api/webhooks/outgoing/{hook_id}", webhooks.OutgoingWebhookResource(hooks))
    app.add_route("/api/webhooks/outgoing/{hook_id}/deliveries",
                  webhooks.DeliveriesResource(hooks))
    app.add_route("/api/webhooks/outgoing/{hook_id}/replay", webhooks.ReplayResource(hooks))
    app.add_route("/hooks/{hook_id}/{secret}", incoming_resources.HookResource(config, incoming))
    if background and config.webhook_delivery:
        Outbox(config, store, incoming).start()
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
