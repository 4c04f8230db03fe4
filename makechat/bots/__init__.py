"""Bots and notifiers: bot accounts, incoming webhooks (Slack's format),
and outgoing webhooks delivered from a durable outbox.

* ``accounts``: bot accounts (tokens only, no password) and their tokens;
* ``documents``: the webhooks, deliveries and attempts as stored;
* ``incoming``: turning a Slack-style payload into a message of a room;
* ``webhooks``: registering, listing and revoking webhooks (the rules);
* ``targets``: which addresses an outgoing webhook may reach (SSRF);
* ``signing``: Standard Webhooks signatures;
* ``outbox``: the delivery worker (at-least-once, never a lost event);
* ``sender``: one HTTP delivery to a checked address.
"""
