"""ClientCore: typed lines to datagrams, datagrams to display events, timeouts by injected time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol_lib import (
    ClientConfig,
    ClientCore,
    ClientState,
    DeliveryFailed,
    IncomingMessage,
    LocalError,
    MessageDelivered,
    Notice,
    OutgoingMessage,
    ProtocolError,
    QuitRequested,
    RosterChanged,
    SendDatagram,
    StateChanged,
    UnrecognisedLine,
    UserJoined,
    UserLeft,
    Welcome,
    parse_server,
)
from tests.strategies import mutated_datagrams


def datagrams(events) -> list[bytes]:
    return [e.data for e in events if isinstance(e, SendDatagram)]


def errors(events) -> list[str]:
    return [e.reason for e in events if isinstance(e, LocalError)]


def logged_in(name: str = "bob") -> ClientCore:
    client = ClientCore()
    client.command(f"/login {name}", 0.0)
    client.receive(f"welcome,{name}".encode(), 0.1)
    assert client.state is ClientState.IN_CHAT
    return client


@pytest.mark.parametrize(
    ("line", "sent"),
    [
        ("login,bob", b"login,bob"),
        ("LOGIN , bob ", b"login,bob"),
        ("/login bob", b"login,bob"),
    ],
)
def test_login_lines_send_the_canonical_datagram(line, sent):
    client = ClientCore()
    events = client.command(line, 0.0)
    assert datagrams(events) == [sent]
    assert StateChanged(ClientState.LOGGING_IN, "bob") in events


@pytest.mark.parametrize(
    ("line", "sent"),
    [
        ("msg,hi, all", b"msg,hi, all"),
        ("hello, world", b"msg,hello, world"),
        ("  padded  ", b"msg,padded"),
        ("//slash at start", b"msg,/slash at start"),
        ("list,", b"list,"),
        ("/list", b"list,"),
        ("exit,", b"exit,"),
        ("exit,bob", b"exit,"),
    ],
)
def test_lines_in_chat(line, sent):
    client = logged_in()
    assert datagrams(client.command(line, 1.0)) == [sent]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("hello", "not-logged-in"),
        ("msg,hello", "not-logged-in"),
        ("list,", "not-logged-in"),
        ("exit,", "not-logged-in"),
        ("/login", "usage"),
        ("/login a,b", "name-comma"),
        ("/login " + "x" * 33, "name-too-long"),
        ("login,", "name-empty"),
        ("/frobnicate", "unknown-command"),
    ],
)
def test_local_errors_when_logged_out(line, reason):
    events = ClientCore().command(line, 0.0)
    assert errors(events) == [reason] and datagrams(events) == []


def test_help_and_blank_lines():
    client = ClientCore()
    assert client.command("   ", 0.0) == []
    (notice,) = client.command("/help", 0.0)
    assert isinstance(notice, Notice) and "/login" in notice.message


def test_too_long_message_is_refused_locally_with_room_left():
    client = logged_in()
    events = client.command("x" * 1016, 1.0)  # fits "msg,..." but not "msg,bob: ..."
    assert errors(events) == ["too-long"] and "1015" in events[0].message


def test_other_name_while_in_chat_needs_exit_first():
    client = logged_in()
    assert errors(client.command("/login robert", 1.0)) == ["already-logged-in"]
    assert datagrams(client.command("/login bob", 1.0)) == [b"login,bob"]  # same name: retry


def test_own_welcome_enters_the_chat_and_asks_for_the_list():
    client = ClientCore()
    client.command("/login bob", 0.0)
    events = client.receive(b"welcome, bob", 0.1)
    assert StateChanged(ClientState.IN_CHAT, "bob") in events
    assert datagrams(events) == [b"list,"]
    assert client.roster == ["bob"]


def test_someone_elses_welcome_does_not_log_us_in():
    client = ClientCore()
    client.command("/login bob", 0.0)
    events = client.receive(b"welcome,alice", 0.1)
    assert client.state is ClientState.LOGGING_IN
    assert UserJoined("alice") in events


def test_login_is_retried_then_given_up():
    client = ClientCore(ClientConfig(login_timeout=1.0, login_attempts=3))
    client.command("/login bob", 0.0)
    assert client.next_deadline() == 1.0
    assert client.tick(0.5) == []
    assert datagrams(client.tick(1.0)) == [b"login,bob"]
    assert datagrams(client.tick(2.0)) == [b"login,bob"]
    events = client.tick(3.0)
    assert errors(events) == ["no-welcome"]
    assert client.state is ClientState.LOGGED_OUT and client.next_deadline() is None
    assert datagrams(client.command("/login", 4.0)) == [b"login,bob"]  # the last name


@pytest.mark.parametrize("relay", [b"msg,bob: hi, all", b"msg,hi, all"])
def test_own_message_is_delivered_when_its_relay_returns(relay):
    client = logged_in()
    events = client.command("hi, all", 1.0)
    (out,) = [e for e in events if isinstance(e, OutgoingMessage)]
    assert client.receive(relay, 1.1) == [MessageDelivered(out.message_id)]


def test_unrelayed_messages_are_reported_after_the_timeout():
    client = logged_in()
    first = client.command("one", 1.0)[1].message_id
    second = client.command("two", 2.0)[1].message_id
    assert client.next_deadline() == 6.0
    events = client.tick(7.5)
    assert DeliveryFailed((first, second)) in events
    assert errors(events) == ["not-relayed"]
    assert client.next_deadline() is None


def test_relays_from_others_are_incoming_with_sender_when_known():
    client = logged_in()
    assert client.receive(b"msg,alice: hi bob", 1.0) == [IncomingMessage("alice", "hi bob")]
    assert client.receive(b"msg, anonymous", 1.0) == [IncomingMessage(None, "anonymous")]


def test_roster_follows_welcome_bye_and_list():
    client = logged_in()
    client.receive(b"list,alice, bob", 1.0)
    assert client.roster == ["alice", "bob"]
    events = client.receive(b"welcome,carol", 1.1)
    assert RosterChanged(("alice", "bob", "carol")) in events
    events = client.receive(b"bye,alice", 1.2)
    assert UserLeft("alice") in events and client.roster == ["bob", "carol"]
    client.receive(b"list,dave", 5.0)
    assert client.roster == ["dave"]


def test_a_full_list_reply_is_continued_by_the_next():
    client = logged_in()
    names = [f"user{i:03d}-with-a-longer-name" for i in range(60)]
    from protocol_lib import UserList

    chunks = [c.encode() for c in UserList.chunks(names)]
    assert len(chunks) > 1
    for data in chunks:
        client.receive(data, 2.0)
    assert client.roster == names
    client.receive(b"list,zed", 10.0)  # long after: a fresh reply replaces the roster
    assert client.roster == ["zed"]


def test_own_bye_logs_us_out():
    client = logged_in()
    events = client.receive(b"bye,bob", 1.0)
    assert StateChanged(ClientState.LOGGED_OUT, None) in events


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"User list: a,b", "unknown-type"),
        (b"list,{('10.0.0.1', 1): 'bob'}", "list-not-names"),
        (b"goodbye, x", "unknown-type"),
        (b"msg,caf\xc3", "not-utf8"),
    ],
)
def test_unparsable_datagrams_are_shown_raw(data, reason):
    client = logged_in()
    client.receive(b"list,alice,bob", 1.0)
    (event,) = client.receive(data, 1.1)
    assert isinstance(event, UnrecognisedLine) and event.reason == reason
    assert event.text == data.decode("utf-8", "replace")
    assert client.roster == ["alice", "bob"]  # left alone


def test_close_sends_exit_only_when_logged_in():
    assert ClientCore().close(0.0) == []
    client = logged_in()
    assert datagrams(client.close(1.0)) == [b"exit,"]
    assert client.state is ClientState.LOGGED_OUT


def test_quit_command_leaves_and_asks_to_quit():
    client = logged_in()
    events = client.command("/quit", 1.0)
    assert datagrams(events) == [b"exit,"] and events[-1] == QuitRequested()


@given(st.one_of(st.binary(max_size=300), mutated_datagrams()))
def test_any_datagram_becomes_events_never_an_exception(data):
    client = logged_in()
    events = client.receive(data, 1.0)
    try:
        repeated_welcome = parse_server(data) == Welcome("bob")  # bob is already present
    except ProtocolError:
        repeated_welcome = False
    assert events or repeated_welcome  # nothing else is silently dropped


@given(st.text(max_size=300))
def test_any_typed_line_becomes_events_never_an_exception(line):
    client = logged_in()
    client.command(line, 1.0)
