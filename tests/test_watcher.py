"""makechat/watcher.py: waiting costs one query per poll per process."""

import threading
import time

from makechat.chat.messagelog import MessageStore
from makechat.chat.watcher import RoomWatcher
from makechat.models import Room


def rooms_finds(commands):
    return [command for name, command in commands if name == "find"
            and command.get("find") == "rooms"]


def make_rooms(count):
    rooms = [Room(name=f"r{n}", name_key=f"r{n}") for n in range(count)]
    for room in rooms:
        room.save()
    return rooms


def wait_all(watcher, rooms, clients, seconds):
    threads = [threading.Thread(target=watcher.wait, args=(rooms[n % len(rooms)].id, 0, seconds))
               for n in range(clients)]
    for thread in threads:
        thread.start()
    return threads


def test_idle_waiting_one_query_per_poll_not_per_client(config, commands):
    rooms = make_rooms(5)
    store = MessageStore(gap_timeout=5)
    watcher = RoomWatcher(poll_interval=0.1, advance=store.advance)
    threads = wait_all(watcher, rooms, clients=300, seconds=1.0)
    for thread in threads:
        thread.join()
    polls = rooms_finds(commands)
    assert polls, "the poller never asked the database"
    # 1 s at 0.1 s per poll: about ten queries for 300 clients, not 300 x 10.
    assert len(polls) <= 13
    assert watcher.polls == len(polls)
    assert all(set(command["filter"]["_id"]) == {"$in"} for command in polls)


def test_no_waiters_no_queries(config, commands):
    store = MessageStore(gap_timeout=5)
    RoomWatcher(poll_interval=0.05, advance=store.advance)
    time.sleep(0.3)
    assert rooms_finds(commands) == []


def test_post_elsewhere_wakes_waiters_through_the_database(config, make_user):
    (room,) = make_rooms(1)
    author = make_user()
    other_process = MessageStore(gap_timeout=5)  # no on_commit link to this watcher
    watcher = RoomWatcher(poll_interval=0.05, advance=other_process.advance)
    woke = []
    thread = threading.Thread(target=lambda: woke.append(watcher.wait(room.id, 0, 10)))
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    other_process.post(room.id, author, "hello")
    thread.join()
    assert woke == [1]  # woken with the new committed mark
    assert time.monotonic() - started < 5


def test_local_post_wakes_waiters_without_a_poll(config, make_user):
    """Messaging tells the watcher of its own posts: no poll is needed."""
    from makechat.chat.messaging import Messaging
    from makechat.chat.watcher import WaitQuota
    from makechat.models import Member
    (room,) = make_rooms(1)
    author = make_user()
    Member(room=room.id, user=author.id, username=author.username).save()
    store = MessageStore(gap_timeout=5)
    watcher = RoomWatcher(poll_interval=60, advance=store.advance)  # polling: too slow
    messaging = Messaging(store, watcher, WaitQuota(20))
    woke = []
    thread = threading.Thread(target=lambda: woke.append(watcher.wait(room.id, 0, 10)))
    thread.start()
    time.sleep(0.1)
    messaging.post(author, room.id, "hello")
    thread.join(timeout=5)
    assert woke == [1]  # woken with the new committed mark


def test_wait_times_out_false(config):
    (room,) = make_rooms(1)
    watcher = RoomWatcher(poll_interval=0.05, advance=MessageStore(5).advance)
    assert watcher.wait(room.id, 0, 0.2) is False
    assert watcher.waiting() == 0
