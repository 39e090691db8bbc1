"""permessage-deflate negotiation (RFC 7692 section 7) in the C core:
``_core.negotiate_deflate`` on offer vectors, several offers, declined
offers, header syntax, and the response header it builds."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dwebsocket_c import _core

DEFAULTS = dict(
    server_max_window_bits=15, client_max_window_bits=15,
    server_no_context_takeover=False, client_no_context_takeover=False,
)


def negotiate(offer, **config):
    return _core.negotiate_deflate(offer, **{**DEFAULTS, **config})


@pytest.mark.parametrize(
    "offer, config, header, params",
    [
        ("permessage-deflate", {}, "permessage-deflate", {}),
        # What browsers send: the server may then limit the client's window.
        ("permessage-deflate; client_max_window_bits", {"client_max_window_bits": 12},
         "permessage-deflate; client_max_window_bits=12", {"client_max_window_bits": 12}),
        ("permessage-deflate; client_max_window_bits", {},
         "permessage-deflate", {"client_max_window_bits": 15}),
        # Not offered: the client's window cannot be limited.
        ("permessage-deflate", {"client_max_window_bits": 10},
         "permessage-deflate", {"client_max_window_bits": 15}),
        ("permessage-deflate; client_max_window_bits=10", {"client_max_window_bits": 12},
         "permessage-deflate; client_max_window_bits=10", {"client_max_window_bits": 10}),
        ("permessage-deflate; client_max_window_bits=8", {},
         "permessage-deflate; client_max_window_bits=8", {"client_max_window_bits": 8}),
        ("permessage-deflate; server_max_window_bits=10", {},
         "permessage-deflate; server_max_window_bits=10", {"server_max_window_bits": 10}),
        ("permessage-deflate; server_max_window_bits=14", {"server_max_window_bits": 11},
         "permessage-deflate; server_max_window_bits=11", {"server_max_window_bits": 11}),
        # The server may state a smaller window of its own unasked.
        ("permessage-deflate", {"server_max_window_bits": 12},
         "permessage-deflate; server_max_window_bits=12", {"server_max_window_bits": 12}),
        ("permessage-deflate; server_no_context_takeover", {},
         "permessage-deflate; server_no_context_takeover",
         {"server_no_context_takeover": True}),
        ("permessage-deflate", {"server_no_context_takeover": True},
         "permessage-deflate; server_no_context_takeover",
         {"server_no_context_takeover": True}),
        ("permessage-deflate; client_no_context_takeover", {},
         "permessage-deflate; client_no_context_takeover",
         {"client_no_context_takeover": True}),
        ("permessage-deflate", {"client_no_context_takeover": True},
         "permessage-deflate; client_no_context_takeover",
         {"client_no_context_takeover": True}),
        # Every parameter at once, quoted values, odd spacing and case.
        ('PerMessage-Deflate ;server_no_context_takeover;  client_no_context_takeover ; '
         'server_max_window_bits="9" ;client_max_window_bits = "13"', {},
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
         "server_max_window_bits=9; client_max_window_bits=13",
         {"server_max_window_bits": 9, "client_max_window_bits": 13,
          "server_no_context_takeover": True, "client_no_context_takeover": True}),
    ],
)
def test_offer_vectors(offer, config, header, params):
    result = negotiate(offer, **config)
    assert result is not None
    got_header, got_params = result
    assert got_header == header
    expected = {
        "server_max_window_bits": config.get("server_max_window_bits", 15),
        "client_max_window_bits": 15,
        "server_no_context_takeover": False,
        "client_no_context_takeover": False,
        **params,
    }
    assert got_params == expected


def test_the_longest_response():
    header, _ = negotiate(
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
        "server_max_window_bits=10; client_max_window_bits=10"
    )
    assert header == (
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
        "server_max_window_bits=10; client_max_window_bits=10"
    )
    assert len(header) == 128


@pytest.mark.parametrize(
    "offer",
    [
        "permessage-deflate; foo",  # unknown parameter
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
        "permessage-deflate; server_no_context_takeover=1",  # takes no value
        "permessage-deflate; client_no_context_takeover=\"\"",
        "permessage-deflate; server_max_window_bits",  # needs a value
        "permessage-deflate; server_max_window_bits=8",  # zlib cannot compress with 8
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=010",  # leading zero
        "permessage-deflate; client_max_window_bits=0x0a",
        "permessage-deflate; client_max_window_bits=\"1 0\"",
        "permessage-deflate; client_max_window_bits=-9",
    ],
)
def test_a_bad_offer_is_declined_and_the_next_one_taken(offer):
    assert negotiate(offer) is None
    header, params = negotiate(offer + ", permessage-deflate; client_no_context_takeover")
    assert header == "permessage-deflate; client_no_context_takeover"
    assert params["client_no_context_takeover"] is True


def test_the_first_acceptable_offer_wins():
    header, params = negotiate(
        "x-webkit-deflate-frame; no_context_takeover, "
        "permessage-deflate; server_max_window_bits=10, permessage-deflate"
    )
    assert header == "permessage-deflate; server_max_window_bits=10"
    assert params["server_max_window_bits"] == 10


def test_other_extensions_are_skipped_whatever_their_parameters():
    assert negotiate('foo; bar="a,b;c", baz=1') is None
    assert negotiate('foo; bar="a,b;c", permessage-deflate')[0] == "permessage-deflate"


@pytest.mark.parametrize(
    "offer",
    [None, "", " ", ",", "permessage-deflat", "deflate-frame"],
)
def test_no_offer(offer):
    assert negotiate(offer) is None


@pytest.mark.parametrize(
    "offer",
    [
        "permessage-deflate;",  # parameter name missing
        "permessage-deflate; =1",
        "permessage-deflate; client_max_window_bits=",
        'permessage-deflate; client_max_window_bits="10',  # unterminated quote
        "permessage-deflate client_max_window_bits",  # junk after the name
        "; permessage-deflate",
        "permessage-deflate; client_max_window_bits=\"1\x010\"",
    ],
)
def test_broken_syntax_declines(offer):
    assert negotiate(offer) is None


def test_empty_list_elements_are_skipped():
    assert negotiate(" , ,permessage-deflate ,")[0] == "permessage-deflate"


def test_bytes_offer():
    assert negotiate(b"permessage-deflate")[0] == "permessage-deflate"


def test_default_server_choice_is_no_context_takeover():
    header, params = _core.negotiate_deflate("permessage-deflate")
    assert header == "permessage-deflate; server_no_context_takeover"
    assert params["server_no_context_takeover"] is True


@pytest.mark.parametrize("bits", [8, 16, -1])
@pytest.mark.parametrize("name", ["server_max_window_bits", "client_max_window_bits"])
def test_invalid_server_configuration_raises(name, bits):
    with pytest.raises(ValueError, match=name):
        _core.negotiate_deflate("permessage-deflate", **{name: bits})


def test_response_is_accepted_by_the_websockets_client_parser():
    """The header we build parses as one permessage-deflate extension with
    the parameters we state (the websockets library's own header parser)."""
    from websockets.headers import parse_extension

    header, _ = negotiate(
        "permessage-deflate; client_max_window_bits; server_max_window_bits=10",
        server_no_context_takeover=True, client_max_window_bits=11,
    )
    [(name, params)] = parse_extension(header)
    assert name == "permessage-deflate"
    assert dict(params) == {
        "server_no_context_takeover": None,
        "server_max_window_bits": "10",
        "client_max_window_bits": "11",
    }


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(
    alphabet=st.sampled_from(list('permssag-dflt_x;,= "\\19058\t')), max_size=120))
def test_any_header_is_answered_without_crashing(offer):
    result = negotiate(offer)
    if result is not None:
        header, params = result
        assert header.startswith("permessage-deflate")
        assert 9 <= params["server_max_window_bits"] <= 15
        assert 8 <= params["client_max_window_bits"] <= 15
