"""The chat core: who may see and manage a room (``access``), rooms and
memberships (``rooms``), the gapless message log of each room
(``messagelog``), waking waiting readers (``watcher``) and reading and
posting as a user (``messaging``). It knows no HTTP: it raises
``makechat.exceptions`` errors, which ``makechat.errors`` maps to statuses."""
