"""PUT and DELETE /api/messages/{id}/reactions/{emoji}: exact counts, events."""

import threading
from urllib.parse import quote

import pytest
import webtest
from bson import ObjectId

from makechat.app import create_app
from makechat.chat.documents import Reaction
from makechat.chat.reactions import check_emoji
from makechat.exceptions import Invalid
from makechat.models import Message
from tests.factories import ApiClient, limited

THUMBS = "\U0001f44d"
PARTY = "\U0001f389"
EMOJI = [chr(code) for code in range(0x1F600, 0x1F610)]


@pytest.fixture
def room(api, admin, bob):
    room = api.as_user(admin).post("/api/rooms", {"name": "room1"}).json["_id"]["$oid"]
    api.as_user(bob).post("/api/members", {"room": room})
    return room


@pytest.fixture
def message(api, admin, room):
    return api.as_user(admin).post("/api/messages", {"room": room, "text": "ship it"}).json


def path(message, emoji):
    return f"/api/messages/{message['_id']['$oid']}/reactions/{quote(emoji)}"


def react(api, user, message, emoji=THUMBS):
    return api.as_user(user).put(path(message, emoji))


@pytest.mark.parametrize("emoji", [THUMBS, "\u2764\ufe0f", "\U0001f44d\U0001f3fd",
                                   "\U0001f1eb\U0001f1f7", "1\ufe0f\u20e3",
                                   "\U0001f468\u200d\U0001f469\u200d\U0001f467"])
def test_emoji_sequences_are_accepted(emoji):
    assert check_emoji(emoji) == emoji


@pytest.mark.parametrize("emoji", ["", "a", "+1", "<b>", "\u200d", "\ufe0f", "1",
                                   THUMBS * 17, "\U0001f44d x"])
def test_anything_else_is_refused(emoji):
    with pytest.raises(Invalid):
        check_emoji(emoji)


def test_a_reaction_shows_its_count_and_whether_i_reacted(api, admin, bob, message):
    resp = react(api, bob, message)
    assert resp.status_int == 200, resp.text
    assert resp.json["reactions"] == [{"emoji": THUMBS, "count": 1, "me": True}]
    react(api, admin, message)
    react(api, admin, message, PARTY)
    shown = api.as_user(bob).get(f"/api/messages/{message['_id']['$oid']}").json
    assert shown["reactions"] == [{"emoji": THUMBS, "count": 2, "me": True},
                                  {"emoji": PARTY, "count": 1, "me": False}]


def test_reacting_twice_counts_once(api, bob, message):
    react(api, bob, message)
    assert react(api, bob, message).json["reactions"][0]["count"] == 1


def test_removing_takes_back_only_my_reaction(api, admin, bob, message):
    react(api, bob, message)
    react(api, admin, message)
    assert api.as_user(bob).delete(path(message, THUMBS)).status_int == 204
    assert api.as_user(bob).delete(path(message, THUMBS)).status_int == 204  # nothing left
    shown = api.as_user(bob).get(f"/api/messages/{message['_id']['$oid']}").json
    assert shown["reactions"] == [{"emoji": THUMBS, "count": 1, "me": False}]


def test_the_last_reaction_gone_leaves_no_summary(api, bob, message):
    react(api, bob, message)
    api.as_user(bob).delete(path(message, THUMBS))
    assert "reactions" not in api.as_user(bob).get(f"/api/messages/{message['_id']['$oid']}").json


def test_reactions_show_in_history(api, admin, bob, room, message):
    react(api, bob, message)
    page = api.as_user(admin).get("/api/messages", params={"room": room}).json
    assert page[0]["reactions"] == [{"emoji": THUMBS, "count": 1, "me": False}]


def test_each_change_is_an_event_of_the_room(api, admin, bob, room, message):
    react(api, bob, message)
    react(api, bob, message)  # no second event
    api.as_user(bob).delete(path(message, THUMBS))
    events = api.as_user(admin).get(f"/api/rooms/{room}/events",
                                    params={"after": message["seq"]}).json["events"]
    assert [event["type"] for event in events] == ["reaction.added", "reaction.removed"]
    assert events[0]["data"]["message"] == message["_id"]
    assert events[0]["data"]["emoji"] == THUMBS
    assert events[0]["actor"]["username"] == "bob"


def test_a_non_member_gets_404_and_changes_nothing(api, make_user, admin, message):
    stranger = make_user()
    assert react(api, stranger, message).status_int == 404
    assert api.as_user(stranger).delete(path(message, THUMBS)).status_int == 404
    assert Reaction.objects.count() == 0


def test_a_message_of_a_closed_room_is_404_to_an_admin_outsider(api, admin, make_user):
    owner, other = make_user(), make_user()
    dm = api.as_user(owner).post("/api/dms", {"user": str(other.id)}).json["_id"]["$oid"]
    secret = api.as_user(owner).post("/api/messages", {"room": dm, "text": "x"}).json
    resp = react(api, admin, secret)
    assert resp.status_int == 404 and resp.json["description"] == "No such message."


def test_an_invalid_emoji_is_400_and_changes_nothing(api, bob, message):
    resp = react(api, bob, message, "thumbsup")
    assert resp.status_int == 400 and set(resp.json) == {"title", "description"}
    assert Reaction.objects.count() == 0


def test_a_deleted_message_takes_no_reaction(api, admin, bob, message):
    api.as_user(admin).delete(f"/api/messages/{message['_id']['$oid']}")
    assert react(api, bob, message).status_int == 404


def test_concurrent_reactions_are_counted_exactly(api, make_user, admin, room, message):
    """Twelve users react at once, each twice (two tabs): twelve reactions,
    twelve events."""
    users = [make_user() for _ in range(12)]
    for user in users:
        api.as_user(user).post("/api/members", {"room": room})
    barrier = threading.Barrier(len(users) * 2)
    statuses = []

    def go(user):
        barrier.wait()
        statuses.append(react(api, user, message).status_int)

    threads = [threading.Thread(target=go, args=(user,)) for user in users for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 24
    shown = api.as_user(admin).get(f"/api/messages/{message['_id']['$oid']}").json
    assert shown["reactions"] == [{"emoji": THUMBS, "count": 12, "me": False}]
    stored = Message._get_collection().count_documents({"room": ObjectId(room),
                                                        "type": "reaction.added"})
    assert stored == 12
    # A follower gets all twelve (waiting, if the room's mark is still
    # catching up with the last commits).
    seen, after = 0, message["seq"]
    for _ in range(10):
        page = api.as_user(admin).get(f"/api/rooms/{room}/events",
                                      params={"after": after, "limit": 100, "wait": 1}).json
        seen += sum(event["type"] == "reaction.added" for event in page["events"])
        after = page["cursor"]
        if seen >= 12:
            break
    assert seen == 12


def capped(config, cap):
    return ApiClient(webtest.TestApp(create_app(config.replace(max_reactions_per_user=cap))))


def test_one_user_puts_at_most_the_configured_number_of_emoji(config, admin, bob, message):
    api = capped(config, 2)
    assert [react(api, bob, message, emoji).status_int for emoji in EMOJI[:2]] == [200, 200]
    resp = react(api, bob, message, EMOJI[2])
    assert resp.status_int == 409 and resp.json["title"] == "Too many reactions"
    assert react(api, bob, message, EMOJI[0]).status_int == 200  # one already there
    assert react(api, admin, message, EMOJI[2]).status_int == 200  # someone else
    assert Reaction.objects(user=bob.id).count() == 2


def live_in_log(api, admin, room, message):
    """The reactions the room's log says are there at its end, each of them
    added before it was removed."""
    events = api.as_user(admin).get(f"/api/rooms/{room}/events",
                                    params={"after": message["seq"], "limit": 200}).json
    seen = {}
    for event in events["events"]:
        seen.setdefault(event["data"]["reaction"]["$oid"], []).append(event["type"])
    assert all(kinds in (["reaction.added"], ["reaction.added", "reaction.removed"])
               for kinds in seen.values()), seen
    return {reaction for reaction, kinds in seen.items() if kinds == ["reaction.added"]}


def test_concurrent_emoji_of_one_user_never_pass_the_cap(config, admin, bob, room, message):
    """Sixteen different emoji at once from one user, each from two tabs,
    with a cap of 3: at most three stored, and the log in step with them."""
    api = capped(config, 3)
    barrier = threading.Barrier(len(EMOJI) * 2)
    statuses = []

    def go(emoji):
        barrier.wait()
        statuses.append(react(api, bob, message, emoji).status_int)

    threads = [threading.Thread(target=go, args=(emoji,)) for emoji in EMOJI for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = {str(item.id) for item in Reaction.objects(user=bob.id)}
    assert len(stored) <= 3 and set(statuses) <= {200, 409}
    assert live_in_log(api, admin, room, message) == stored


def test_deleting_a_room_deletes_its_reactions(api, admin, bob, room, message):
    react(api, bob, message)
    api.as_user(admin).delete(f"/api/rooms/{room}")
    assert Reaction.objects.count() == 0


def test_a_token_limited_to_other_rooms_cannot_react(api, admin, bob, room, message):
    other = api.as_user(admin).post("/api/rooms", {"name": "room2"}).json["_id"]["$oid"]
    api.as_user(bob).post("/api/members", {"room": other})
    client = limited(api, bob, [other])
    assert client.put(path(message, THUMBS)).status_int == 403
    assert client.delete(path(message, THUMBS)).status_int == 403
    assert Reaction.objects.count() == 0


def test_toggling_at_once_leaves_the_log_in_step_with_the_reactions(api, admin, bob, room,
                                                                    message):
    """One user adds and takes back the same emoji from many tabs at once:
    in the log each reaction is added before it is removed, and what the log
    says at its end is what is stored."""
    barrier = threading.Barrier(12)

    def go(number):
        barrier.wait()
        client = api.as_user(bob)
        (client.put if number % 2 else client.delete)(path(message, THUMBS))

    workers = [threading.Thread(target=go, args=(number,)) for number in range(12)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert live_in_log(api, admin, room, message) == \
        {str(item.id) for item in Reaction.objects(user=bob.id)}
