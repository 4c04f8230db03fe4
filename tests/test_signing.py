"""Standard Webhooks signatures (makechat.bots.signing)."""

import base64
import hashlib
import hmac

from makechat.bots import signing


def test_a_signature_is_base64_hmac_sha256_of_id_timestamp_and_body():
    key = b"0123456789abcdef0123456789abcdef"
    secret = "whsec_" + base64.b64encode(key).decode()
    expected = base64.b64encode(hmac.new(key, b"msg_1.1700000000.{}", hashlib.sha256)
                                .digest()).decode()
    assert signing.sign(secret, "msg_1", 1700000000, b"{}") == f"v1,{expected}"
    assert signing.verify(secret, "msg_1", 1700000000, b"{}", f"v1,zzz v1,{expected}")
    assert not signing.verify(secret, "msg_1", 1700000001, b"{}", f"v1,{expected}")


def test_secrets_are_derived_and_differ_per_webhook_and_key():
    one = signing.signing_secret(b"key", "hook1", "nonce")
    assert one.startswith("whsec_") and len(base64.b64decode(one[6:])) == 32
    assert one == signing.signing_secret(b"key", "hook1", "nonce")
    assert one != signing.signing_secret(b"key", "hook2", "nonce")
    assert one != signing.signing_secret(b"other", "hook1", "nonce")


def test_the_database_key_is_made_once(config):
    assert signing.server_key("") == signing.server_key("")
    assert signing.server_key("configured") == b"configured"
