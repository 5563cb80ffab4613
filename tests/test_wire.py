"""The wire format: round trips, the fuzz invariant, tolerance and the reasons for refusal."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from protocol_lib import (
    MAX_DATAGRAM_BYTES,
    MAX_NAME_CHARS,
    REASONS,
    Bye,
    ChatMessage,
    ChatRelay,
    ExitRequest,
    ListRequest,
    LocalProtocolError,
    LoginRequest,
    ProtocolError,
    RemoteProtocolError,
    UserList,
    Welcome,
    parse_client,
    parse_server,
)
from protocol_lib.wire import LIST_CHUNK_FULL_BYTES
from tests.strategies import client_messages, mutated_datagrams, names, server_messages, texts


@given(client_messages)
def test_client_messages_round_trip(message):
    data = message.encode()
    assert len(data) <= MAX_DATAGRAM_BYTES
    assert parse_client(data) == message


@given(server_messages)
def test_server_messages_round_trip(message):
    assert parse_server(message.encode()) == message


@given(names, texts)
def test_relay_recovers_sender_and_body(user, text):
    relay = parse_server(ChatRelay.attributed(user, text).encode())
    assert (relay.sender, relay.body) == (user, text)


@given(st.binary(max_size=2048))
def test_any_bytes_parse_or_raise_protocol_error(data):
    for parse in (parse_client, parse_server):
        try:
            parse(data)
        except ProtocolError as exc:
            assert exc.reason in REASONS


def _assert_round_trips(parse, data: bytes) -> None:
    """What a parser accepts, ``encode`` sends again, and it parses to the same message."""
    try:
        message = parse(data)
    except ProtocolError as exc:
        assert exc.reason in REASONS
        return
    again = message.encode()
    assert len(again) <= MAX_DATAGRAM_BYTES
    assert parse(again) == message


@given(st.binary(max_size=1100))
def test_whatever_parses_encodes_and_parses_back_the_same(data):
    for parse in (parse_client, parse_server):
        _assert_round_trips(parse, data)


_tricky_chars = st.sampled_from(
    [
        "\x00",
        "\x07",
        "\x1c",
        "\x85",
        "\u2028",
        "\u2029",
        "\u202e",
        "\ufeff",
        "\t",
        ",",
        ":",
        ": ",
        " ",
        "\r\n",
        "\u00e9",
        "x",
    ]
)


@given(
    st.sampled_from(["login,", "msg,", "list,", "exit,", "welcome,", "bye,", "LOGIN , "]),
    st.lists(st.one_of(_tricky_chars, st.text(max_size=40)), max_size=12),
)
def test_typed_text_with_controls_round_trips_or_is_refused(kind, parts):
    data = (kind + "".join(parts)).encode()[:MAX_DATAGRAM_BYTES]
    for parse in (parse_client, parse_server):
        _assert_round_trips(parse, data)


@pytest.mark.parametrize(
    "data",
    [
        "msg,a\u2028b".encode(),
        b"msg,a\x1cb",
        b"welcome," + b"n" * 40,
        b"welcome,a\x07b",
        b"list,a:b,c",
        b"list,a\x00,b",
        b"bye,dr:who",
    ],
)
def test_server_datagrams_that_could_not_be_sent_again_are_refused_or_kept(data):
    _assert_round_trips(parse_server, data)


@given(mutated_datagrams())
def test_mutated_datagrams_parse_or_raise_protocol_error(data):
    for parse in (parse_client, parse_server):
        try:
            parse(data)
        except ProtocolError as exc:
            assert isinstance(exc, RemoteProtocolError) and isinstance(exc, ValueError)
            assert exc.reason in REASONS


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"login,bob", LoginRequest("bob")),
        (b"login, bob \n", LoginRequest("bob")),
        (b"LOGIN ,x", LoginRequest("x")),
        (b"  Msg,hi, all\r\n", ChatMessage("hi, all")),
        (b"msg,msg,hi", ChatMessage("msg,hi")),
        (b"list,", ListRequest()),
        (b"list,whatever", ListRequest()),
        (b"exit,", ExitRequest()),
        (b"exit,bob", ExitRequest()),
        (b"login,login,bob", LoginRequest("bob")),  # a client that prefixes what was typed
        (b"login, LOGIN , bob", LoginRequest("bob")),
    ],
)
def test_client_side_tolerance(data, expected):
    assert parse_client(data) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"welcome,bob", Welcome("bob")),
        (b"welcome, bob", Welcome("bob")),
        (b"bye, bob\n", Bye("bob")),
        (b"list,", UserList(())),
        (b"list, a, b", UserList(("a", "b"))),
        (b"list,a,,b,", UserList(("a", "b"))),
        (b"msg,bob: hi, all", ChatRelay("bob: hi, all")),
        (b"msg, no sender", ChatRelay("no sender")),
        (b"welcome,a name far longer than any name we would accept", None),
    ],
)
def test_server_side_tolerance(data, expected):
    parsed = parse_server(data)
    if expected is not None:
        assert parsed == expected
    else:
        assert isinstance(parsed, Welcome)  # other servers' names are taken as they come


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe", "not-utf8"),
        (b"msg,caf\xc3", "not-utf8"),  # a UTF-8 character cut by a 1024-byte buffer
        (b"", "empty"),
        (b" \r\n", "empty"),
        (b"hello", "no-comma"),
        (b",x", "no-type"),
        (b"help,", "unknown-type"),
        (b"x" * (MAX_DATAGRAM_BYTES + 1), "too-long"),
        (b"login,", "name-empty"),
        (b"login," + b"n" * 33, "name-too-long"),
        (b"login,a,b", "name-comma"),
        (b"login,dr:who", "name-colon"),
        (b"login,a\x07b", "name-control"),
        (b"msg,", "text-empty"),
        (b"msg,line\nbreak", "text-control"),
    ],
)
def test_client_datagrams_refused_with_reason(data, reason):
    with pytest.raises(RemoteProtocolError) as info:
        parse_client(data)
    assert info.value.reason == reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"list,{('127.0.0.1', 5000): 'bob'}", "list-not-names"),
        (b"list,User list: a,b", "list-not-names"),
        (b"goodbye, x", "unknown-type"),
        (b"welcome,", "name-empty"),
        (b"msg,  ", "text-empty"),
        (b"msg,two\x00parts", "text-control"),
        (b"welcome,a,b", "name-comma"),
        (b"bye,a\x1bb", "name-control"),
        (b"list,a:b", "list-not-names"),
    ],
)
def test_server_datagrams_refused_with_reason(data, reason):
    with pytest.raises(RemoteProtocolError) as info:
        parse_server(data)
    assert info.value.reason == reason


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (LoginRequest("a,b"), "name-comma"),
        (LoginRequest(" bob"), "name-whitespace"),
        (Welcome(""), "name-empty"),
        (ChatMessage(""), "text-empty"),
        (ChatMessage(" padded "), "text-whitespace"),
        (ChatMessage("x" * 1021), "too-long"),
        (ChatRelay("two\nlines"), "text-control"),
        (UserList(("ok", "not,ok")), "name-comma"),
    ],
)
def test_encode_refuses_what_others_could_misread(message, reason):
    with pytest.raises(LocalProtocolError) as info:
        message.encode()
    assert info.value.reason == reason


def test_longest_message_fits_exactly():
    assert len(ChatMessage("x" * 1020).encode()) == MAX_DATAGRAM_BYTES
    with pytest.raises(LocalProtocolError):
        ChatMessage("\u00e9" * 511).encode()  # 1022 bytes of text: over by 2


@given(st.lists(names, max_size=300, unique=True))
def test_user_list_chunks_fit_and_keep_order(users):
    chunks = UserList.chunks(users)
    assert [u for c in chunks for u in c.users] == users
    encoded = [c.encode() for c in chunks]
    assert all(len(e) <= MAX_DATAGRAM_BYTES for e in encoded)
    assert all(len(e) >= LIST_CHUNK_FULL_BYTES for e in encoded[:-1])


def test_every_reason_code_has_a_sentence():
    from protocol_lib import REASONS, Reason

    assert set(REASONS) == set(Reason)
    assert all(sentence and sentence[0].islower() for sentence in REASONS.values())


@given(
    st.one_of(
        mutated_datagrams(),
        st.binary(max_size=64),
        st.builds(lambda t: b"msg," + t.encode(), texts),
    )
)
def test_the_plain_chat_shortcut_never_disagrees_with_the_parser(data):
    from protocol_lib.wire import plain_chat_text

    text = plain_chat_text(data)
    if text is not None:
        assert parse_client(data) == ChatMessage(text)
        assert parse_server(data) == ChatRelay(text)  # the client's shortcut too


# Login datagrams near the shortcut's edges: blanks, commas, colons, controls, case,
# every script, and names just over the length limit.
_login_bodies = st.one_of(
    names,
    st.text(st.sampled_from("aB9 :,;-_.\t\x00\x7f\u00e9"), max_size=MAX_NAME_CHARS + 2),
    st.text(st.characters(max_codepoint=0x7F), max_size=MAX_NAME_CHARS + 2),
    st.text(max_size=MAX_NAME_CHARS + 2),
)


@given(
    st.one_of(
        mutated_datagrams(),
        st.binary(max_size=64),
        st.builds(
            lambda t, n: t + n.encode(), st.sampled_from([b"login,", b"LOGIN , "]), _login_bodies
        ),
    )
)
@example(b"login,a:b")
@example(b"login,a,b")
@example(b"login, bob")
@example(b"login,bob ")
@example(b"login," + b"x" * (MAX_NAME_CHARS + 1))
@example(b"login,b\x00b")
def test_the_plain_login_shortcut_never_disagrees_with_the_parser(data):
    from protocol_lib.wire import plain_login_name

    name = plain_login_name(data)
    if name is not None:
        assert parse_client(data) == LoginRequest(name)


def test_the_plain_login_shortcut_takes_the_common_case_and_leaves_the_rest():
    from protocol_lib.wire import plain_login_name

    assert plain_login_name(b"login,bob") == "bob"
    assert plain_login_name(b"login,Bob Smith-2") == "Bob Smith-2"
    assert plain_login_name(b"login," + b"x" * MAX_NAME_CHARS) == "x" * MAX_NAME_CHARS
    for other in (b"login, bob", b"login,bob\n", b"LOGIN,bob", b"login,", b"login,a,b",
                  b"login,a:b", "login,bøb".encode(), b"login," + b"x" * (MAX_NAME_CHARS + 1),
                  b"msg,bob", b"login,b\tb"):  # fmt: skip
        assert plain_login_name(other) is None, other
