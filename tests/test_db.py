"""makechat/db.py: migrations, and saying when the embedded database is outgrown."""


def test_outgrown_embedded_database_is_said_in_the_log(config, raw_db, caplog):
    """The test database is FerretDB (or says it is not, and then nothing is
    logged)."""
    import logging

    from makechat.db import warn_if_outgrown
    raw_db.messages.insert_many([{"room": None, "seq": n, "dedupe": f"t{n}"} for n in range(5)])
    is_ferretdb = "ferretdbVersion" in raw_db.client.admin.command("buildInfo")
    with caplog.at_level(logging.WARNING, logger="makechat.db"):
        warned = warn_if_outgrown(raw_db, threshold=3)
    assert (warned == 5) is is_ferretdb
    assert ("embedded_max_messages = 3" in caplog.text) is is_ferretdb
    assert warn_if_outgrown(raw_db, threshold=100) is None


def test_migration_keeps_old_look_alike_names_distinct(config, raw_db):
    """Two rooms stored before names had look-alike keys: both keep working."""
    from makechat.db import migrate
    raw_db.rooms.insert_many([{"name": "public", "name_key": "public"},
                              {"name": "pub1ic", "name_key": "pub1ic"}])
    if "name_key_1" in raw_db.rooms.index_information():
        raw_db.rooms.drop_index("name_key_1")  # as before 0.3: one key per name
    migrate(raw_db)
    keys = sorted(room["name_key"] for room in raw_db.rooms.find())
    assert len(set(keys)) == 2 and keys[0] == "pub1ic" and keys[1].startswith("pub1ic#")


def test_migration_numbers_old_tokens_slots(config, raw_db, make_user):
    from makechat.db import migrate
    bob = make_user("bob")
    raw_db.tokens.update_many({}, {"$unset": {"slot": ""}})
    raw_db.tokens.drop_index("owner_1_slot_1")
    migrate(raw_db)
    assert [token["slot"] for token in raw_db.tokens.find({"owner": bob.id})] == [0]
