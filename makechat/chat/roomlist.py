"""Rooms as the API shows them to one user: who is in them, their role, and
for the rooms they belong to how far they have read (``read_seq``) and what
is left (``unread``, ``mentions_unread``); a direct conversation
(``makechat.chat.dms``) under the names of its other members."""

from makechat.chat.mentions import unread_mentions
from makechat.models import Member


def rooms_to_public(rooms, user, read_state=None):
    """Serialize rooms with their member ids (one query for the page) and, for
    the rooms the user belongs to, ``read_seq``, ``unread`` and
    ``mentions_unread`` (one more query for the markers, one aggregation for
    each count). A direct conversation is named after its other members."""
    ids = [room.id for room in rooms]
    members, roles, joined, names = {room_id: [] for room_id in ids}, {}, {}, {}
    for member in Member.objects(room__in=ids).order_by("joined").only(
            "room", "user", "role", "joined_seq", "username"):
        members[member.room].append(member.user)
        if member.user == user.id:
            roles[member.room], joined[member.room] = member.role, member.joined_seq or 0
        else:
            names.setdefault(member.room, []).append(member.username)
    reads, counts, mentions = {}, {}, {}
    if read_state is not None and roles:
        reads = read_state.read_seqs(user, list(roles))
        marks = {room.id: room.committed_seq for room in rooms}
        counts = read_state.unread(user, {room_id: (seq, marks[room_id])
                                          for room_id, seq in reads.items()})
        mentions = unread_mentions(user, {room_id: (max(seq, joined[room_id]), marks[room_id])
                                          for room_id, seq in reads.items() if counts[room_id]})
    shown = []
    for room in rooms:
        public = room.to_public(members[room.id], roles.get(room.id),
                                see_members=room.is_open or room.id in roles
                                or user.is_superuser)
        if room.id in reads:
            public["read_seq"], public["unread"] = reads[room.id], counts[room.id]
            public["mentions_unread"] = mentions.get(room.id, 0)
        if room.is_dm:
            public["name"] = ", ".join(sorted(names.get(room.id, []))) or room.name
            public["dm"] = True
        shown.append(public)
    return shown
