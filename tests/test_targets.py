"""Which addresses outgoing webhooks may reach (makechat.bots.targets)."""

import pytest

from makechat.bots.targets import Refused, check, parse, why_refused


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.0.1",
                                     "169.254.169.254", "100.64.0.1", "::1", "fe80::1",
                                     "fc00::1", "::ffff:127.0.0.1", "0.0.0.0", "224.0.0.1"])
def test_non_public_addresses_are_refused(address):
    assert why_refused(address, allow_private=False) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::6810:85e5"])
def test_public_addresses_are_allowed(address):
    assert why_refused(address, allow_private=False) is None


def test_allowing_private_still_refuses_unspecified_and_multicast():
    assert why_refused("127.0.0.1", allow_private=True) is None
    assert why_refused("0.0.0.0", allow_private=True) is not None
    assert why_refused("ff02::1", allow_private=True) is not None


@pytest.mark.parametrize("url", ["ftp://example.com/", "https://user:pw@example.com/",
                                 "https:///nohost", "https://example.com:99999/", "not a url"])
def test_malformed_or_unsafe_urls_are_refused(url):
    with pytest.raises(Refused):
        parse(url, allow_http=True)


def test_https_only_unless_http_is_allowed():
    with pytest.raises(Refused):
        parse("http://example.com/", allow_http=False)
    assert parse("http://example.com/x?y=1", allow_http=True).path == "/x?y=1"


def test_a_name_resolving_to_loopback_is_refused():
    with pytest.raises(Refused, match="loopback"):
        check("https://localhost/hook", allow_http=False, allow_private=False)


def test_a_name_that_does_not_resolve_is_refused():
    with pytest.raises(Refused, match="does not resolve"):
        check("https://no-such-host.invalid/hook", allow_http=False, allow_private=False)
