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
    RosterChanged,
    SendDatagram,
    StateChanged,
    UnrecognisedLine,
    UserJoined,
    UserLeft,
    Welcome,
    parse_server,
)
from protocol_lib.client_events import (
    ChatSilence,
    DeliveryUnknown,
    MessageSent,
    MessageStatus,
    NameTakenOver,
    NotFromServer,
    RelayStyle,
    RelayStyleLearned,
    UserListShown,
)
from protocol_lib.ratelimit import RateLimit, RateLimiter, client_pace
from protocol_lib.reasons import Reason
from qml_client.commands import QuitRequested, typed_line
from tests.strategies import mutated_datagrams, server_messages


def datagrams(events) -> list[bytes]:
    return [e.data for e in events if isinstance(e, SendDatagram)]


def errors(events) -> list[str]:
    return [e.reason for e in events if isinstance(e, LocalError)]


def logged_in(name: str = "bob") -> ClientCore:
    client = ClientCore()
    typed_line(client, f"/login {name}", 0.0)
    client.receive(f"welcome,{name}".encode(), None, 0.1)
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
    events = typed_line(client, line, 0.0)
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
    assert datagrams(typed_line(client, line, 1.0)) == [sent]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("hello", "not-logged-in"),
        ("/list", "not-logged-in"),
        ("two\nlines", "not-logged-in"),
        ("/login", "usage"),
        ("/login a,b", "name-comma"),
        ("/login " + "x" * 33, "name-too-long"),
        ("login,", "name-empty"),
        ("/frobnicate", "unknown-command"),
    ],
)
def test_local_errors_when_logged_out(line, reason):
    events = typed_line(ClientCore(), line, 0.0)
    assert errors(events) == [reason] and datagrams(events) == []


def test_help_and_blank_lines():
    client = ClientCore()
    assert typed_line(client, "   ", 0.0) == []
    (notice,) = typed_line(client, "/help", 0.0)
    assert isinstance(notice, Notice) and "/login" in notice.message


def test_too_long_message_is_refused_locally_with_room_left():
    client = logged_in()
    events = typed_line(client, "x" * 1016, 1.0)  # fits "msg,..." but not "msg,bob: ..."
    assert errors(events) == ["too-long"] and "1015" in events[0].message


def test_other_name_while_in_chat_needs_exit_first():
    client = logged_in()
    assert errors(typed_line(client, "/login robert", 1.0)) == ["already-logged-in"]
    assert datagrams(typed_line(client, "/login bob", 1.0)) == [b"login,bob"]  # same name: retry


def test_own_welcome_enters_the_chat_and_asks_for_the_list():
    client = ClientCore()
    typed_line(client, "/login bob", 0.0)
    events = client.receive(b"welcome, bob", None, 0.1)
    assert StateChanged(ClientState.IN_CHAT, "bob") in events
    assert datagrams(events) == [b"list,"]
    assert client.roster == ["bob"]


def test_someone_elses_welcome_does_not_log_us_in():
    client = ClientCore()
    typed_line(client, "/login bob", 0.0)
    events = client.receive(b"welcome,alice", None, 0.1)
    assert client.state is ClientState.LOGGING_IN
    assert UserJoined("alice") in events


def test_login_is_retried_then_given_up():
    client = ClientCore(ClientConfig(login_timeout=1.0, login_attempts=3))
    typed_line(client, "/login bob", 0.0)
    assert client.next_deadline() == 1.0
    assert client.handle_timer(0.5) == []
    assert datagrams(client.handle_timer(1.0)) == [b"login,bob"]
    assert datagrams(client.handle_timer(2.0)) == [b"login,bob"]
    events = client.handle_timer(3.0)
    assert errors(events) == ["no-welcome"]
    # a trial: the server let erin in, its welcome went to a group she did not hear, and
    # her name stayed in the chat after she closed the window: giving up takes it back
    assert datagrams(events) == [b"exit,"]
    assert client.state is ClientState.LOGGED_OUT and client.next_deadline() is None
    assert datagrams(typed_line(client, "/login", 4.0)) == [b"login,bob"]  # the last name


@pytest.mark.parametrize(
    ("relay", "style"),
    [(b"msg,bob: hi, all", RelayStyle.ATTRIBUTED), (b"msg,hi, all", RelayStyle.PLAIN)],
)
def test_own_message_is_delivered_when_its_relay_returns_and_teaches_the_style(relay, style):
    client = logged_in()
    events = typed_line(client, "hi, all", 1.0)
    (out,) = [e for e in events if isinstance(e, OutgoingMessage)]
    assert client.receive(relay, None, 1.1) == [
        RelayStyleLearned(style),
        MessageDelivered(out.message_id),
    ]
    assert client.relay_style is style


def test_lines_unanswered_by_a_silent_chat_are_not_confirmed_never_said_not_relayed():
    """Issue 36, point 2: behind a firewall that drops the group on this side, the server
    relays our lines and the others get them; nothing comes back.  "Not relayed" would make
    a person send them twice: they are "not confirmed", the chat is silent (the window runs
    its doctor), and the login goes again; anything heard ends the silence."""
    client = logged_in()
    first = typed_line(client, "one", 1.0)[1].message_id
    second = typed_line(client, "two", 2.0)[1].message_id
    assert client.next_deadline() == 6.0
    events = client.handle_timer(7.5)
    assert DeliveryUnknown((first, second)) in events
    assert not [e for e in events if isinstance(e, DeliveryFailed)]
    assert errors(events) == ["server-silent"]
    (error,) = [e for e in events if isinstance(e, LocalError)]
    assert "not confirmed" in error.message and "cannot be known" in error.message
    assert ChatSilence(True) in events and client.silent
    assert datagrams(events) == [b"login,bob"]
    assert client.receive(b"msg,alice: hello?", None, 9.0)[-1] == ChatSilence(False)
    assert not client.silent


def test_a_restarted_server_welcomes_us_back_and_the_unconfirmed_lines_go_again():
    """The server was killed and came back: our lines went nowhere.  The login the client
    sent by itself is welcomed (no takeover), and the held lines are sent again, once."""
    client = logged_in()
    one = typed_line(client, "one", 1.0)[1].message_id
    two = typed_line(client, "two", 2.5)[1].message_id
    events = client.handle_timer(6.0)
    assert errors(events) == ["server-silent"] and datagrams(events) == [b"login,bob"]
    events = client.handle_timer(7.5)  # "two" is unanswered too, within the login's window
    assert errors(events) == ["server-silent"] and datagrams(events) == []
    back = client.receive(b"welcome,bob", None, 7.6)
    assert client.state is ClientState.IN_CHAT and not client.silent
    assert not any(isinstance(e, NameTakenOver) for e in back)
    (notice,) = [e for e in back if isinstance(e, Notice)]
    assert "welcomed you back" in notice.message and "2 line(s) again" in notice.message
    assert datagrams(back) == [b"list,", b"msg,one", b"msg,two"]
    assert [e for e in back if isinstance(e, MessageSent)] == [MessageSent(one), MessageSent(two)]
    assert client.receive(b"msg,bob: one", None, 7.7) == [
        RelayStyleLearned(RelayStyle.ATTRIBUTED),
        MessageDelivered(one),
    ]
    events = client.handle_timer(20.0)  # "two" refused after its second try: final
    assert DeliveryFailed((two,)) in events and datagrams(events) == []


def test_a_login_typed_while_the_client_asks_by_itself_is_no_takeover():
    """The client resent its login to a silent server; the person types /login too before
    the answer: two welcomes come, for two logins of ours, and neither is a takeover (seen
    once in CI: the first welcome ended the typed login and the second looked like someone
    else's)."""
    client = logged_in()
    typed_line(client, "anyone there?", 1.0)
    assert datagrams(client.handle_timer(6.0)) == [b"login,bob"]  # asked by itself
    assert datagrams(typed_line(client, "/login", 6.2)) == [b"login,bob"]  # and by hand
    first = client.receive(b"welcome,bob", None, 6.3)
    second = client.receive(b"welcome,bob", None, 6.4)
    assert client.state is ClientState.IN_CHAT
    assert not any(isinstance(e, NameTakenOver) for e in first + second)


def test_a_welcome_for_us_long_after_the_login_we_resent_is_a_takeover():
    client = logged_in()
    typed_line(client, "one", 1.0)
    assert datagrams(client.handle_timer(6.0)) == [b"login,bob"]
    events = client.receive(b"welcome,bob", None, 60.0)
    assert any(isinstance(e, NameTakenOver) for e in events)
    assert client.state is ClientState.LOGGED_OUT


def test_a_line_refused_while_the_server_relays_others_logs_in_again_and_goes_again():
    """Issue 36, point 2: the server was restarted while this window was quiet; another
    window logged in again, so lines are relayed, but ours are refused (not logged in).
    The client logs in again by itself and sends the line once welcomed."""
    client = logged_in()
    mine = typed_line(client, "one", 1.0)[1].message_id
    client.receive(b"welcome,alice", None, 2.0)  # the server is up (and has alice back)
    client.receive(b"msg,alice: still talking", None, 3.0)
    events = client.handle_timer(6.5)
    assert not [e for e in events if isinstance(e, DeliveryFailed | DeliveryUnknown)]
    assert datagrams(events) == [b"login,bob"] and errors(events) == []
    (notice,) = [e for e in events if isinstance(e, Notice)]
    assert "Logging you in again to send" in notice.message
    assert not client.silent  # it answers: only not to us
    back = client.receive(b"welcome,bob", None, 6.6)
    assert datagrams(back) == [b"list,", b"msg,one"] and MessageSent(mine) in back
    assert MessageDelivered(mine) in client.receive(b"msg,bob: one", None, 6.7)


def test_a_line_refused_again_after_the_welcome_back_is_not_relayed():
    client = logged_in()
    mine = typed_line(client, "one", 1.0)[1].message_id
    client.receive(b"msg,alice: still talking", None, 3.0)
    client.handle_timer(6.5)
    client.receive(b"welcome,bob", None, 6.6)
    client.receive(b"msg,alice: and talking", None, 8.0)
    events = client.handle_timer(11.7)
    assert DeliveryFailed((mine,)) in events and errors(events) == ["not-relayed"]
    (error,) = [e for e in events if isinstance(e, LocalError)]
    assert "relays other lines" in error.message
    assert datagrams(events) == []  # once: no loop of logins and resends


def test_a_refused_line_whose_login_is_not_welcomed_back_is_not_relayed():
    """The server relays others and will not have us back (another took the name during
    the restart): the line is known not relayed, and the message says what to do."""
    client = logged_in()
    mine = typed_line(client, "one", 1.0)[1].message_id
    client.receive(b"msg,alice: still talking", None, 3.0)
    client.handle_timer(6.5)  # our login goes again
    client.receive(b"msg,alice: talking on", None, 7.0)
    assert client.next_deadline() == 9.5
    events = client.handle_timer(9.5)
    assert DeliveryFailed((mine,)) in events and errors(events) == ["not-relayed"]
    (error,) = [e for e in events if isinstance(e, LocalError)]
    assert "did not welcome you back as bob" in error.message
    assert not client.silent


def test_a_silent_chat_whose_login_goes_unanswered_stays_silent_and_unconfirmed():
    client = logged_in()
    mine = typed_line(client, "one", 1.0)[1].message_id
    events = client.handle_timer(6.0)
    assert ChatSilence(True) in events
    events = client.handle_timer(9.0)
    assert events == [] and client.silent  # said once; the marks stay "not confirmed"
    # the chat is asked again by itself: 5 s after it fell silent, then less often
    assert client.next_deadline() == 11.0
    assert datagrams(client.handle_timer(11.0)) == [b"login,bob"]
    client.handle_timer(14.0)  # unanswered again
    assert client.next_deadline() == 21.0  # 10 s after the last ask
    # the chat answers much later without a welcome of ours: nothing is sent again
    assert client.receive(b"msg,alice: back", None, 60.0)[-1] == ChatSilence(False)
    assert b"msg,one" not in datagrams(client.handle_timer(61.0))
    assert mine


def test_a_late_echo_of_an_unconfirmed_line_delivers_it_and_it_is_not_sent_again():
    client = logged_in()
    mine = typed_line(client, "one", 1.0)[1].message_id
    client.handle_timer(6.0)
    events = client.receive(b"msg,bob: one", None, 6.5)
    assert MessageDelivered(mine) in events and ChatSilence(False) in events
    assert datagrams(client.receive(b"welcome,bob", None, 6.6)) == [b"list,"]


def test_relays_from_others_are_incoming_with_sender_when_in_the_roster():
    client = logged_in()
    client.receive(b"list,alice,bob", None, 0.5)
    client.say("hi", 0.6)
    client.receive(b"msg,bob: hi", None, 0.7)  # our echo: the server attributes
    assert client.receive(b"msg,alice: hi bob", None, 1.0) == [IncomingMessage("alice", "hi bob")]
    # not in the roster: the text stays whole, nobody is credited
    assert client.receive(b"msg,Reminder: at 5", None, 1.0) == [
        IncomingMessage(None, "Reminder: at 5")
    ]


def test_roster_follows_welcome_bye_and_list():
    client = logged_in()
    client.receive(b"list,alice, bob", None, 1.0)
    assert client.roster == ["alice", "bob"]
    assert client.receive(b"welcome,carol", None, 1.1) == [UserJoined("carol")]
    assert client.roster == ["alice", "bob", "carol"]
    assert client.receive(b"bye,alice", None, 1.2) == [UserLeft("alice")]
    assert client.roster == ["bob", "carol"]
    assert client.receive(b"list,dave", None, 5.0) == [RosterChanged(("dave",))]
    assert client.roster == ["dave"]


def test_a_roster_known_beforehand_credits_senders_without_asking_the_server():
    """A gateway's new client starts with the roster its group listener knows."""
    client = ClientCore(
        ClientConfig(list_after_login=False, relay_style=RelayStyle.ATTRIBUTED, send_limit=None)
    )
    client.know_roster(["alice", "carol"])
    events = client.login("bob", 0.0) + client.receive(b"welcome,bob", None, 0.1)
    assert datagrams(events) == [b"login,bob"]  # no list, request: the roster was known
    assert client.roster == ["alice", "carol", "bob"]
    assert client.receive(b"msg,alice: hi", None, 0.2) == [IncomingMessage("alice", "hi")]
    assert client.receive(b"bye,alice", None, 0.3) == [UserLeft("alice")]
    assert client.receive(b"msg,alice: hi", None, 0.4) == [IncomingMessage(None, "alice: hi")]


def test_a_style_learned_by_a_neighbour_is_presumed_but_never_beats_our_own_echo():
    reader = logged_in()
    reader.receive(b"list,alice,bob", None, 0.5)
    assert reader.receive(b"msg,alice: hi", None, 0.6) == [IncomingMessage(None, "alice: hi")]
    reader.presume_relay_style(RelayStyle.ATTRIBUTED)  # another client's echo showed it
    assert reader.receive(b"msg,alice: hi", None, 0.7) == [IncomingMessage("alice", "hi")]
    sure = logged_in()
    sure.say("mine", 1.0)
    sure.receive(b"msg,mine", None, 1.1)  # our own echo: a plain relay, confirmed
    sure.presume_relay_style(RelayStyle.ATTRIBUTED)
    assert sure.relay_style is RelayStyle.PLAIN


def test_each_of_a_hundred_thousand_welcomes_reports_one_user():
    """Never a copy of the list per welcome: that made 100k welcomes quadratic.

    The cost itself is measured in benchmarks/bench_hostile.py.
    """
    client = logged_in()
    events = [client.receive(b"welcome,user%d" % i, None, 2.0) for i in range(100_000)]
    assert all(len(e) == 1 and isinstance(e[0], UserJoined) for e in events)
    assert len(client.roster) == 100_001


def test_a_full_list_reply_is_continued_by_the_next():
    client = logged_in()
    names = [f"user{i:03d}-with-a-longer-name" for i in range(60)]
    from protocol_lib import UserList

    chunks = [c.encode() for c in UserList.chunks(names)]
    assert len(chunks) > 1
    for data in chunks:
        client.receive(data, None, 2.0)
    assert client.roster == names
    client.receive(b"list,zed", None, 10.0)  # long after: a fresh reply replaces the roster
    assert client.roster == ["zed"]


def test_own_bye_logs_us_out():
    client = logged_in()
    events = client.receive(b"bye,bob", None, 1.0)
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
    client.receive(b"list,alice,bob", None, 1.0)
    (event,) = client.receive(data, None, 1.1)
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
    events = typed_line(client, "/quit", 1.0)
    assert datagrams(events) == [b"exit,"] and events[-1] == QuitRequested()


@given(st.one_of(st.binary(max_size=300), mutated_datagrams()))
def test_any_datagram_becomes_events_never_an_exception(data):
    client = logged_in()
    events = client.receive(data, None, 1.0)
    try:
        repeated_welcome = parse_server(data) == Welcome("bob")  # bob is already present
    except ProtocolError:
        repeated_welcome = False
    assert events or repeated_welcome  # nothing else is silently dropped


_batch_datagrams = st.lists(
    st.tuples(
        st.one_of(
            server_messages.map(lambda message: message.encode()),
            st.sampled_from([b"msg,bob: hi, all", b"msg,hi, all", b"msg,bob: more"]),
            mutated_datagrams(),
        ),
        st.sampled_from(
            [("10.0.0.1", 4321), ("10.0.0.1", 4321), ("10.0.0.1", 5555), ("10.0.0.66", 4321), None]
        ),
    ),
    max_size=30,
)


@given(_batch_datagrams, st.booleans())
def test_a_batch_reads_as_its_datagrams_one_by_one(batch, own_line_waits):
    """receive_all (what the view calls with everything read) gives the events, and
    leaves the state, that receive gives one datagram at a time: each datagram is read
    in the state the ones before it left (a relay style learned, a name welcomed)."""
    config = ClientConfig(server_sources=frozenset({"10.0.0.1"}))
    one_by_one, batched = ClientCore(config), ClientCore(config)
    for client in (one_by_one, batched):
        typed_line(client, "/login bob", 0.0)
        client.receive(b"welcome,bob", ("10.0.0.1", 4321), 0.1)
        if own_line_waits:
            typed_line(client, "hi, all", 0.2)
    expected = [event for data, source in batch for event in one_by_one.receive(data, source, 1.0)]
    assert batched.receive_all(batch, 1.0) == expected
    assert batched.roster == one_by_one.roster
    assert batched.relay_style is one_by_one.relay_style
    assert batched.state is one_by_one.state


@given(st.text(max_size=300))
def test_any_typed_line_becomes_events_never_an_exception(line):
    client = logged_in()
    typed_line(client, line, 1.0)


# --- pacing: nothing typed is lost to the server's rate limit ------------------


def outgoing(events) -> list[OutgoingMessage]:
    return [e for e in events if isinstance(e, OutgoingMessage)]


def run_until_sent(client: ClientCore, start: float, limit: float = 600.0) -> list[tuple]:
    """Drive tick() at next_deadline() as a shell would; (time, datagram) sent."""
    sent = []
    now = start
    while client.queued and now < limit:
        deadline = client.next_deadline()
        assert deadline is not None, "lines wait in the queue but no deadline is set"
        now = max(now, deadline)
        sent += [(now, d) for d in datagrams(client.handle_timer(now))]
    assert not client.queued
    return sent


def test_lines_typed_faster_than_the_pace_are_queued_then_sent_in_order():
    client = logged_in()  # login and list already took two tokens at t=0.0-0.1
    events = [typed_line(client, f"line {i}", 1.0 + i * 0.01) for i in range(20)]
    statuses = [outgoing(e)[0].status for e in events]
    assert statuses.count(MessageStatus.PENDING) >= 1
    assert statuses[-1] is MessageStatus.QUEUED
    first_queued = statuses.index(MessageStatus.QUEUED)
    assert all(s is MessageStatus.QUEUED for s in statuses[first_queued:])  # FIFO: none jump
    sent = run_until_sent(client, 1.2)
    assert [d for _, d in sent] == [f"msg,line {i}".encode() for i in range(first_queued, 20)]


@pytest.mark.parametrize("limit", [RateLimit(), RateLimit(burst=5, per_second=2)])
def test_paced_sending_never_exceeds_the_servers_limit(limit):
    """60 lines typed in 6.5 s (what a fast typist did): the server's own bucket
    accepts every datagram the client sends, login and list included."""
    client = ClientCore(ClientConfig(send_limit=client_pace(limit)))
    server = RateLimiter(limit)
    addr = ("127.0.0.1", 5000)
    sent = [(0.0, d) for d in datagrams(typed_line(client, "/login bob", 0.0))]
    sent += [(0.01, d) for d in datagrams(client.receive(b"welcome,bob", None, 0.01))]
    for i in range(60):
        now = 0.5 + i * 6.5 / 60
        sent += [(max(now, t), d) for t, d in run_until_sent_partial(client, now)]
        sent += [(now, d) for d in datagrams(typed_line(client, f"ok {i}", now))]
    sent += run_until_sent(client, 7.0)
    chat = [d for _, d in sent if d.startswith(b"msg,")]
    assert chat == [f"msg,ok {i}".encode() for i in range(60)]
    refused = [d for t, d in sent if not server.allow(addr, t)]
    assert refused == []


def run_until_sent_partial(client: ClientCore, now: float) -> list[tuple]:
    """tick() whatever is due by ``now`` (the shell's timer firing while the user types)."""
    sent = []
    deadline = client.next_deadline()
    while deadline is not None and deadline <= now and client.queued:
        sent += [(deadline, d) for d in datagrams(client.handle_timer(deadline))]
        if client.next_deadline() == deadline:
            break
        deadline = client.next_deadline()
    return sent


def test_queued_line_becomes_pending_when_sent_and_can_still_be_delivered():
    client = ClientCore(ClientConfig(send_limit=RateLimit(burst=1, per_second=1)))
    typed_line(client, "/login bob", 0.0)
    client.receive(b"welcome,bob", None, 0.0)  # login + list: the bucket is in debt
    (out,) = outgoing(typed_line(client, "hello", 0.1))
    assert out.status is MessageStatus.QUEUED
    assert client.handle_timer(0.2) == []
    deadline = client.next_deadline()
    assert deadline is not None and deadline > 0.2
    events = client.handle_timer(deadline)
    assert events == [SendDatagram(b"msg,hello"), MessageSent(out.message_id)]
    assert MessageDelivered(out.message_id) in client.receive(
        b"msg,bob: hello", None, deadline + 0.01
    )


def test_leaving_with_lines_queued_waits_for_them_and_window_close_reports_them():
    client = ClientCore(ClientConfig(send_limit=RateLimit(burst=1, per_second=1)))
    typed_line(client, "/login bob", 0.0)
    client.receive(b"welcome,bob", None, 0.0)
    typed_line(client, "one", 0.1)
    events = typed_line(client, "exit,", 0.2)  # typed: leave after the queue
    assert datagrams(events) == [] and client.state is ClientState.IN_CHAT
    sent = []
    now = 0.2
    while client.state is ClientState.IN_CHAT:
        now = client.next_deadline()
        sent += datagrams(client.handle_timer(now))
    assert sent == [b"msg,one", b"exit,"]

    client = ClientCore(ClientConfig(send_limit=RateLimit(burst=1, per_second=1)))
    typed_line(client, "/login bob", 0.0)
    client.receive(b"welcome,bob", None, 0.0)
    (queued,) = outgoing(typed_line(client, "two", 0.1))
    events = client.close(0.2)  # the window closes: the queue cannot wait
    assert DeliveryFailed((queued.message_id,)) in events and "not-sent" in errors(events)


def test_queue_is_bounded_with_a_clear_error_not_a_silent_drop():
    client = ClientCore(ClientConfig(send_limit=RateLimit(burst=1, per_second=1), max_queued=3))
    typed_line(client, "/login bob", 0.0)
    client.receive(b"welcome,bob", None, 0.0)
    for i in range(3):
        assert outgoing(typed_line(client, f"q{i}", 0.1))[0].status is MessageStatus.QUEUED
    assert errors(typed_line(client, "one too many", 0.1)) == ["queue-full"]


# --- attribution --------------------------------------------------------------


def test_plain_relay_server_never_invents_a_sender_from_text():
    client = logged_in("alice")
    client.receive(b"list,alice,bob", None, 0.2)
    typed_line(client, "first", 1.0)
    client.receive(b"msg,first", None, 1.01)  # our echo, plain: the spec's relay
    assert client.relay_style is RelayStyle.PLAIN
    assert client.receive(b"msg,bob: did you see this?", None, 2.0) == [
        IncomingMessage(None, "bob: did you see this?")
    ]


def test_someone_elses_lookalike_does_not_confirm_our_line_on_a_plain_server():
    client = logged_in("alice")
    typed_line(client, "first", 1.0)
    client.receive(b"msg,first", None, 1.01)  # PLAIN learned
    (mine,) = outgoing(typed_line(client, "yes", 2.0))
    # bob typed "alice: yes" on a plain server
    assert client.receive(b"msg,alice: yes", None, 2.1) == [IncomingMessage(None, "alice: yes")]
    assert client.receive(b"msg,yes", None, 2.2) == [MessageDelivered(mine.message_id)]


def test_on_an_attributed_server_a_plain_lookalike_does_not_confirm_our_line():
    client = logged_in("alice")
    client.receive(b"list,alice,bob", None, 0.2)
    typed_line(client, "first", 1.0)
    client.receive(b"msg,alice: first", None, 1.01)  # ATTRIBUTED learned
    (mine,) = outgoing(typed_line(client, "ok", 2.0))
    events = client.receive(b"msg,ok", None, 2.1)
    assert IncomingMessage(None, "ok") in events
    assert MessageDelivered(mine.message_id) not in events


def test_attributed_relay_credits_only_names_in_the_roster():
    client = logged_in("alice")
    client.receive(b"list,alice,bob", None, 0.2)
    typed_line(client, "first", 1.0)
    client.receive(b"msg,alice: first", None, 1.01)
    assert client.relay_style is RelayStyle.ATTRIBUTED
    assert client.receive(b"msg,bob: hi", None, 2.0) == [IncomingMessage("bob", "hi")]
    assert client.receive(b"msg,Reminder: meeting at 5", None, 2.0) == [
        IncomingMessage(None, "Reminder: meeting at 5")
    ]


@pytest.mark.parametrize("data", [b"msg,alice: are you there?", b"msg,bob: did you see this?"])
def test_before_the_style_is_known_nobody_is_credited(data):
    client = logged_in("alice")
    client.receive(b"list,alice,bob", None, 0.2)
    assert client.receive(data, None, 1.0) == [IncomingMessage(None, data.decode()[4:])]


def test_an_unnamed_relay_teaches_plain_style():
    client = logged_in("alice")
    assert client.receive(b"msg,hello everyone", None, 1.0) == [
        RelayStyleLearned(RelayStyle.PLAIN),
        IncomingMessage(None, "hello everyone"),
    ]


def told(style: RelayStyle, name: str = "bob") -> ClientCore:
    """In the chat with ``style`` known beforehand (discovery, launcher, remembered)."""
    client = ClientCore(ClientConfig(relay_style=style))
    typed_line(client, f"/login {name}", 0.0)
    client.receive(f"welcome,{name}".encode(), None, 0.1)
    client.receive(f"list,alice,{name}".encode(), None, 0.2)
    return client


def test_a_relay_style_known_beforehand_credits_senders_from_the_first_line():
    client = told(RelayStyle.ATTRIBUTED)
    assert client.receive(b"msg,alice: hi bob", None, 1.0) == [IncomingMessage("alice", "hi bob")]
    (mine,) = outgoing(typed_line(client, "hi", 2.0))
    # Our own echo confirms it, quietly: nothing was learned that was not presumed.
    assert client.receive(b"msg,bob: hi", None, 2.1) == [MessageDelivered(mine.message_id)]


@pytest.mark.parametrize("echo", [b"msg,hi", b"msg,bob: hi"])
def test_a_presumed_style_never_keeps_our_own_echo_from_confirming_our_line(echo):
    client = told(RelayStyle.PLAIN if echo == b"msg,bob: hi" else RelayStyle.ATTRIBUTED)
    presumed = client.relay_style
    (mine,) = outgoing(typed_line(client, "hi", 2.0))
    learned = RelayStyle.PLAIN if echo == b"msg,hi" else RelayStyle.ATTRIBUTED
    assert client.receive(echo, None, 2.1) == [
        RelayStyleLearned(learned, presumed),
        MessageDelivered(mine.message_id),
    ]


def test_a_presumed_attributed_relay_contradicted_by_an_unnamed_line_is_plain_from_then():
    client = told(RelayStyle.ATTRIBUTED)
    assert client.receive(b"msg,hello everyone", None, 1.0) == [
        RelayStyleLearned(RelayStyle.PLAIN, RelayStyle.ATTRIBUTED),
        IncomingMessage(None, "hello everyone"),
    ]
    assert client.receive(b"msg,alice: hi", None, 1.1) == [IncomingMessage(None, "alice: hi")]


# --- source check ---------------------------------------------------------------


def trusting(source: str = "10.0.0.1", name: str = "bob") -> ClientCore:
    client = ClientCore(ClientConfig(server_sources=frozenset({source})))
    typed_line(client, f"/login {name}", 0.0)
    client.receive(f"welcome,{name}".encode(), (source, 4321), 0.1)
    return client


@pytest.mark.parametrize("data", [b"bye,bob", b"welcome,bob", b"list,mallory", b"msg,bob: hi"])
def test_datagrams_from_another_host_change_nothing_and_are_shown_as_such(data):
    client = trusting()
    roster = client.roster
    events = client.receive(data, ("10.0.0.66", 4321), 5.0)
    assert events == [NotFromServer("10.0.0.66", data.decode())]
    assert client.state is ClientState.IN_CHAT and client.roster == roster


def test_forged_welcome_does_not_complete_a_login():
    client = ClientCore(ClientConfig(server_sources=frozenset({"10.0.0.1"})))
    typed_line(client, "/login bob", 0.0)
    client.receive(b"welcome,bob", ("10.0.0.66", 4321), 0.1)
    assert client.state is ClientState.LOGGING_IN
    client.receive(b"welcome,bob", ("10.0.0.1", 4321), 0.2)
    assert client.state is ClientState.IN_CHAT


def test_forged_datagrams_do_not_count_as_the_server_being_alive():
    client = trusting()
    typed_line(client, "hello", 1.0)
    client.receive(b"msg,mallory: noise", ("10.0.0.66", 4321), 3.0)
    assert "server-silent" in errors(client.handle_timer(6.5))


# --- takeover -----------------------------------------------------------------


def test_unasked_welcome_for_our_name_is_a_takeover():
    client = logged_in("alice")
    events = client.receive(b"welcome,alice", None, 30.0)
    assert NameTakenOver("alice") in events
    assert StateChanged(ClientState.LOGGED_OUT, None) in events
    assert client.state is ClientState.LOGGED_OUT
    assert datagrams(typed_line(client, "/login", 31.0)) == [b"login,alice"]  # takes it back


def test_welcomes_echoing_our_own_login_retries_are_not_a_takeover():
    client = ClientCore(ClientConfig(login_timeout=1.0))
    typed_line(client, "/login alice", 0.0)
    client.handle_timer(1.0)  # retry: two logins in flight
    client.receive(b"welcome,alice", None, 1.1)
    events = client.receive(b"welcome,alice", None, 1.2)
    assert not any(isinstance(e, NameTakenOver) for e in events)
    assert client.state is ClientState.IN_CHAT


def test_relogin_under_the_same_name_is_not_a_takeover():
    client = logged_in("alice")
    typed_line(client, "/login alice", 10.0)
    events = client.receive(b"welcome,alice", None, 10.1)
    assert not any(isinstance(e, NameTakenOver) for e in events)
    assert client.state is ClientState.IN_CHAT


# --- raw lines, /list, paste ----------------------------------------------------


@pytest.mark.parametrize(
    ("line", "sent"), [("msg,hello", b"msg,hello"), ("list,", b"list,"), ("exit,", b"exit,")]
)
def test_raw_protocol_lines_go_out_without_a_welcome_with_a_warning(line, sent):
    client = ClientCore()
    typed_line(client, "/login bob", 0.0)
    client.receive(b"Welcome to my server, bob!", None, 0.1)  # a welcome we cannot read
    events = typed_line(client, line, 0.2)
    assert datagrams(events) == [sent]
    assert any(isinstance(e, Notice) and "no welcome" in e.message for e in events)
    if line.startswith("msg"):
        assert outgoing(events)[0].status is MessageStatus.SENT


def test_typed_list_is_written_to_the_chat_once_its_reply_arrives():
    client = logged_in()
    client.receive(b"list,alice,bob", None, 0.2)  # the automatic one after login: not shown
    events = typed_line(client, "/list", 1.0)
    assert datagrams(events) == [b"list,"]
    assert UserListShown(("alice", "bob", "carol")) in client.receive(
        b"list,alice,bob,carol", None, 1.1
    )
    later = client.receive(b"list,alice", None, 2.0)
    assert not any(isinstance(e, UserListShown) for e in later)


def test_typed_list_waits_for_the_last_chunk_of_a_long_reply():
    from protocol_lib import UserList

    client = logged_in()
    names = [f"user{i:03d}-with-a-longer-name" for i in range(60)]
    typed_line(client, "/list", 1.0)
    chunks = [c.encode() for c in UserList.chunks(names)]
    shown = [e for data in chunks for e in client.receive(data, None, 1.1)]
    assert [e for e in shown if isinstance(e, UserListShown)] == [UserListShown(tuple(names))]


def test_a_paste_of_several_lines_is_one_message_per_line():
    client = logged_in()
    events = typed_line(client, "first line\n\n  second, with a comma \r\nexit,\n/quit", 1.0)
    assert datagrams(events) == [
        b"msg,first line",
        b"msg,second, with a comma",
        b"msg,exit,",
        b"msg,/quit",
    ]
    texts = [o.text for o in outgoing(events)]
    assert texts == ["first line", "second, with a comma", "exit,", "/quit"]
    assert client.state is ClientState.IN_CHAT  # pasted text is never a command


def test_tool_api_speaks_without_the_typed_grammar():
    client = ClientCore()
    assert datagrams(client.login("bot", 0.0)) == [b"login,bot"]
    client.receive(b"welcome,bot", None, 0.1)
    assert datagrams(client.say("exit, stage left", 1.0)) == [b"msg,exit, stage left"]
    assert datagrams(client.say("list, of things", 1.1)) == [b"msg,list, of things"]
    assert client.state is ClientState.IN_CHAT
    assert datagrams(client.request_list(1.2)) == [b"list,"]
    assert datagrams(client.leave(1.3)) == [b"exit,"]


@given(
    st.lists(
        st.tuples(st.sampled_from(["type", "relay", "tick"]), st.text(max_size=20)), max_size=40
    )
)
def test_every_typed_line_ends_delivered_failed_unconfirmed_never_forgotten(steps):
    client = logged_in()
    client.receive(b"list,bob", None, 0.2)
    now = 1.0
    ours: dict[int, str] = {}
    ended: set[int] = set()
    for action, text in steps:
        now += 0.05
        if action == "type":
            events = client.say(text or "x", now)
        elif action == "relay":
            events = client.receive(f"msg,bob: {text or 'x'}".encode(), None, now)
        else:
            events = client.handle_timer(now + 3.0)
            now += 3.0
        for e in events:
            if isinstance(e, OutgoingMessage):
                ours[e.message_id] = e.text
            elif isinstance(e, MessageDelivered):
                ended.add(e.message_id)
            elif isinstance(e, DeliveryFailed | DeliveryUnknown):
                ended.update(e.message_ids)
    now += 1000.0
    for _ in range(50):  # a silent chat is asked again now and then: not for ever here
        if client.next_deadline() is None:
            break
        for e in client.handle_timer(max(now, client.next_deadline())):
            if isinstance(e, DeliveryFailed | DeliveryUnknown):
                ended.update(e.message_ids)
            if isinstance(e, MessageDelivered):
                ended.add(e.message_id)
        now += 10.0
    assert set(ours) == ended


def test_help_is_a_readable_list_of_every_command():
    (notice,) = typed_line(ClientCore(), "/help", 0.0)
    commands = [line.split()[0] for line in notice.message.splitlines() if line.startswith("  /")]
    assert commands == [
        "/login", "/nick", "/list", "/clear", "/search", "/doctor", "/leave", "/quit", "/help",
        "//text",
    ]  # fmt: skip


def test_nick_leaves_and_joins_again_under_the_new_name():
    client = logged_in("bob")
    events = typed_line(client, "/nick robert", 1.0)
    assert datagrams(events) == [b"exit,", b"login,robert"]
    assert client.state is ClientState.LOGGING_IN and client.user == "robert"
    assert errors(typed_line(client, "/nick", 1.1)) == ["usage"]
    client.receive(b"welcome,robert", None, 1.2)
    (notice,) = typed_line(client, "/nick robert", 2.0)
    assert "already" in notice.message
    assert errors(typed_line(client, "/nick a,b", 2.0)) == ["name-comma"]


def test_clear_only_asks_the_view():
    from qml_client.commands import ClearRequested

    assert typed_line(logged_in(), "/clear", 1.0) == [ClearRequested()]


def test_the_client_changes_state_through_its_table_alone():
    """``MOVES`` is the client's whole state machine: no other assignment moves it."""
    import ast
    import inspect

    import protocol_lib.client as module
    from protocol_lib.client import MOVES, Move

    tree = ast.parse(inspect.getsource(module))
    assigning = {
        function.name
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Attribute) and target.attr == "state"
    }
    assert assigning == {"__init__", "_move"}
    assert {move for _, move in MOVES} == set(Move)
    assert {state for state, _ in MOVES} == set(ClientState)


def test_the_room_for_text_is_what_say_lets_through():
    client = logged_in()  # as bob
    room = client.text_room()
    assert room == 1024 - len(b"msg,bob: ")
    assert datagrams(client.say("x" * room, 1.0)) == [b"msg," + b"x" * room]
    (too_long,) = client.say("x" * (room + 1), 1.0)
    assert too_long.reason is Reason.TOO_LONG and f"at most {room} fit" in too_long.message


def test_what_a_typed_line_says_is_read_once_for_sending_and_for_counting():
    from qml_client.commands import said_texts

    assert said_texts("  hello  ") == ["hello"]
    assert said_texts("//etc/passwd") == ["/etc/passwd"]
    assert said_texts("/search x") is None and said_texts("msg,hi") is None
    assert said_texts("one\n/two\n\n") == ["one", "/two"]  # a paste: every line literally
    assert said_texts("   ") == []


def test_a_doctor_s_probe_asks_the_list_quietly_and_only_in_the_chat():
    client = logged_in()
    assert datagrams(client.probe(3.0)) == [b"list,"]
    assert not client.heard_since(3.0)
    events = client.receive(b"list,alice,bob", None, 3.1)
    assert not any(isinstance(e, UserListShown) for e in events)  # not written to the view
    assert client.heard_since(3.0) and not client.heard_since(3.2)
    assert ClientCore().probe(4.0) == []


SERVER, ITS_SOCKET, OTHER = "10.0.0.1", ("10.0.0.1", 50000), ("10.0.0.1", 50001)


def pinned() -> ClientCore:
    """In the chat as bob, welcomed from the server's sending socket (port 50000)."""
    client = ClientCore(ClientConfig(server_sources=frozenset({SERVER}), server_port=4321))
    typed_line(client, "/login bob", 0.0)
    client.receive(b"welcome,bob", ITS_SOCKET, 0.1)
    client.receive(b"list,alice,bob", (SERVER, 4321), 0.2)  # a unicast reply: its own port
    assert client.server_ports == frozenset({50000, 4321}) and client.roster == ["alice", "bob"]
    return client


@pytest.mark.parametrize(
    "data", [b"bye,bob", b"welcome,bob", b"welcome,mallory", b"list,mallory", b"msg,alice: hi"]
)
def test_another_program_on_the_servers_host_is_shown_never_believed(data):
    """Issue 37, point 2: any local process (or a second server on the server's host) sent
    bye,bob and welcome,alice to the group from the server's address, and every window
    believed it.  Only the server's own socket speaks for it now: a datagram from another
    port is kept while the client asks the server's socket (list,); that answers, so the
    datagram is shown as not from the server and changes nothing."""
    client = pinned()
    events = client.receive(data, OTHER, 1.0)
    assert events == [SendDatagram(b"list,")]  # is the server's socket still there? (once)
    assert client.state is ClientState.IN_CHAT and client.roster == ["alice", "bob"]
    assert client.receive(data, OTHER, 1.1) == []
    client.receive(b"list,alice,bob", ITS_SOCKET, 1.2)  # it is: the forger stays a forger
    shown = client.handle_timer(4.0)
    assert shown == [NotFromServer(SERVER, data.decode(), 50001)] * 2 and not client.silent
    events = client.receive(b"welcome,bob", OTHER, 5.0)  # and again later: asked again
    assert datagrams(events) == [b"list,"] and client.state is ClientState.IN_CHAT
    assert client.roster == ["alice", "bob"]


def test_a_restarted_server_s_new_socket_is_believed_once_its_old_one_is_silent():
    """A server killed and started again sends from a new port: its datagrams wait while
    the client asks the old socket (no answer), falls silent, logs in again and is
    welcomed from the new port; then they are read, in order, as the server's."""
    client = pinned()
    events = client.receive(b"welcome,carol", OTHER, 1.0)  # carol is back first
    assert datagrams(events) == [b"list,"]
    client.receive(b"msg,carol: anyone?", OTHER, 1.5)
    events = client.handle_timer(4.0)  # nothing from port 50000 since: silent, log in again
    assert ChatSilence(True) in events and datagrams(events) == [b"login,bob"]
    back = client.receive(b"welcome,bob", OTHER, 4.1)
    assert ChatSilence(False) in back and client.server_ports == frozenset({50001, 4321})
    assert UserJoined("carol") in back and IncomingMessage(None, "carol: anyone?") in back
    assert not [e for e in back if isinstance(e, NotFromServer)]
    assert client.receive(b"msg,alice: back", OTHER, 4.2) == [IncomingMessage(None, "alice: back")]
    events = client.receive(b"msg,alice: old", ITS_SOCKET, 4.3)  # the old port: now unsure
    assert datagrams(events) == [b"list,"] and not client.handle_timer(4.4)
    client.receive(b"list,alice,bob,carol", OTHER, 4.5)  # the server's socket answers
    assert client.handle_timer(7.3) == [NotFromServer(SERVER, "msg,alice: old", 50000)]


def test_a_silent_chat_speaking_from_a_new_socket_is_asked_at_once_not_at_the_next_retry():
    """A trial: the host's laptop died, the window's line went unanswered (silent), the host
    hosted again, and for 25 s (until the next silent retry) the window showed the chat's
    lines as "not the server: not trusted".  A datagram from the server's address on a new
    port, while the chat is silent, now sends our login at once; the welcome from that
    port teaches it, and what waited is read as the server's."""
    client = pinned()
    typed_line(client, "anyone?", 1.0)
    events = client.handle_timer(6.5)  # unanswered: silent, and our login asked once
    assert ChatSilence(True) in events and datagrams(events) == [b"login,bob"]
    client.handle_timer(10.0)  # no welcome in the login's window (the host is still down)
    assert datagrams(client.handle_timer(11.5)) == [b"login,bob"]  # asked again, 5 s on
    client.handle_timer(15.0)  # no welcome again: the next ask is 10 s on
    assert client.silent and client.next_deadline() == pytest.approx(21.5)
    events = client.receive(b"welcome,rivera", OTHER, 16.0)  # the host is back: new socket
    assert datagrams(events) == [b"login,bob"]  # asked now, not at 21.5
    assert not [e for e in events if isinstance(e, NotFromServer)]
    client.receive(b"msg,rivera: back again", OTHER, 16.1)
    back = client.receive(b"welcome,bob", OTHER, 16.2)
    assert ChatSilence(False) in back and client.server_ports == frozenset({50001, 4321})
    assert UserJoined("rivera") in back and IncomingMessage(None, "rivera: back again") in back
    assert not [e for e in back if isinstance(e, NotFromServer)]


@pytest.mark.parametrize("ours_first", [True, False])
def test_a_goodbye_to_everyone_is_the_chat_ending_one_to_us_alone_is_our_session(ours_first):
    """A trial read "The server ended your session (it may be stopping or restarting)"
    when the host had ended the chat for everyone.  The core says which it was, as a
    reason (SessionEnded), and each front end words it (issue 39, point 4).  A stopping
    server says bye in login order, ours among the others: the core decides a moment after
    ours (a review: deciding at once said "only you" to all but the last to join)."""
    from protocol_lib import SessionEnded
    from protocol_lib.client import ENDED_WITHIN

    client = logged_in()
    client.receive(b"welcome,alice", None, 0.5)
    assert not [e for e in client.receive(b"bye,bob", None, 1.0) if isinstance(e, SessionEnded)]
    assert client.state is ClientState.LOGGED_OUT
    assert client.next_deadline() == pytest.approx(1.0 + ENDED_WITHIN)
    assert client.handle_timer(1.0 + ENDED_WITHIN) == [SessionEnded(everyone=False)]
    assert client.next_deadline() is None
    client = logged_in()
    client.receive(b"welcome,alice", None, 0.5)
    order = [b"bye,bob", b"bye,alice"] if ours_first else [b"bye,alice", b"bye,bob"]
    events = client.receive(order[0], None, 1.0) + client.receive(order[1], None, 1.01)
    assert not [e for e in events if isinstance(e, SessionEnded | Notice)]
    assert SessionEnded(everyone=True) in client.handle_timer(1.01 + ENDED_WITHIN)
