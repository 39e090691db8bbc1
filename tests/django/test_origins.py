"""The Origin matching of dwebsocket_c.origins, as a function (no server:
test_handshake_refusals checks it through a real handshake)."""

import pytest

from dwebsocket_c.origins import origin_matches, parse_origin

WILDCARD = "https://*.example.com"


@pytest.mark.parametrize("origin", [
    "https://a.example.com",
    "https://a.b.example.com",
    "https://example.com",  # the domain itself, as Django's CSRF check reads it
    "HTTPS://A.Example.COM",
    "https://a.example.com:443",  # the default port, written out
])
def test_wildcard_allows_the_domain_and_its_subdomains(origin):
    assert origin_matches(origin, WILDCARD)


@pytest.mark.parametrize("origin", [
    "https://user@a.example.com",  # userinfo
    "https://user:pw@a.example.com",
    "https://evil.com%2F.example.com",  # percent-escape
    "https://evil.com/.example.com",  # path
    "https://a.example.com/",
    "https://a.example.com/chat",
    "https://a.example.com?x=.example.com",  # query
    "https://a.example.com#.example.com",  # fragment
    "https://evil.com\\.example.com",  # backslash
    "https://evil.com .example.com",  # space
    "https://a.example.com:8443",  # another port
    "https://a.example.com:",  # empty port
    "https://a.example.com:99999",  # not a port
    "http://a.example.com",  # another scheme
    "https://evilexample.com",  # not a subdomain
    "https://a.example.com.evil.com",
    "https://.example.com",  # an empty label
    "https://a..example.com",
    "null",
    "",
    "a.example.com",
])
def test_wildcard_refuses_anything_else(origin):
    assert not origin_matches(origin, WILDCARD)


def test_wildcard_with_a_port_wants_that_port():
    pattern = "http://*.example.com:8000"
    assert origin_matches("http://a.example.com:8000", pattern)
    assert not origin_matches("http://a.example.com", pattern)
    assert not origin_matches("http://a.example.com:8001", pattern)


def test_exact_entries_and_the_star():
    assert origin_matches("https://example.com", "https://example.com/")
    assert origin_matches("https://Example.com", "https://example.com")
    assert not origin_matches("https://user@example.com", "https://example.com")
    assert not origin_matches("https://example.com:8443", "https://example.com")
    assert origin_matches("https://anything.test", "*")


def test_malformed_patterns_match_nothing():
    for pattern in ("https://*example.com", "https://a.*.example.com", "*.example.com",
                    "https://*.", "https://*.exa%6dple.com"):
        assert not origin_matches("https://a.example.com", pattern), pattern


def test_parse_origin():
    assert parse_origin("https://A.example.com") == ("https", "a.example.com", 443)
    assert parse_origin("http://127.0.0.1:8000") == ("http", "127.0.0.1", 8000)
    assert parse_origin("http://[::1]:8000") == ("http", "[::1]", 8000)
    assert parse_origin("chrome-extension://abcdef") == ("chrome-extension", "abcdef", None)
    assert parse_origin("https://*.example.com", wildcard=True) == ("https", "*.example.com", 443)
    assert parse_origin("https://*.example.com") is None  # a star only in a pattern
    assert parse_origin("https://a.example.com:0") is None
