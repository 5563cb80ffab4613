"""ServerCore's rules, one test each, with injected time and no sockets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol_lib import (
    ListReplyMode,
    RateLimit,
    RejectionsSummarised,
    RequestArrived,
    RequestRejected,
    SendToAddress,
    SendToGroup,
    ServerConfig,
    ServerCore,
)
from protocol_lib.server_events import HostSweeping, SessionEvicted
from tests.strategies import texts

A = ("10.0.0.1", 5000)
A2 = ("10.0.0.1", 5001)  # same host, another port
B = ("10.0.0.2", 5000)
C = ("10.0.0.3", 5000)


def core(**config) -> ServerCore:
    config.setdefault("rate_limit", None)
    return ServerCore(ServerConfig(**config))


def sent(actions) -> list[bytes]:
    return [a.data for a in actions if isinstance(a, SendToGroup)]


def rejected(actions) -> list[str]:
    return [a.reason for a in actions if isinstance(a, RequestRejected)]


def test_login_welcomes_a_new_name_to_the_group():
    srv = core()
    actions = srv.receive(b"login,bob", A, 0)
    assert sent(actions) == [b"welcome,bob"]
    assert RequestArrived("login", "bob", A) in actions
    assert srv.users == ("bob",)


def test_login_again_from_the_same_address_is_idempotent():
    srv = core()
    srv.receive(b"login,bob", A, 0)
    assert sent(srv.receive(b"login,bob", A, 1)) == [b"welcome,bob"]
    assert srv.users == ("bob",)


def test_name_held_by_another_host_is_refused():
    srv = core()
    srv.receive(b"login,bob", A, 0)
    actions = srv.receive(b"login,bob", B, 1)
    assert sent(actions) == [] and rejected(actions) == ["name-taken"]
    assert srv.address_of("bob") == A


@pytest.mark.parametrize(
    "look_alike",
    [
        "ALICE",  # case
        "\u0430lice",  # Cyrillic a
        "\u0391LICE",  # Greek capital alpha
        "\uff41\uff4c\uff49\uff43\uff45",  # fullwidth
        "alic\u0435",  # Cyrillic e at the end
    ],
)
def test_a_name_that_only_looks_different_is_taken(look_alike):
    srv = core()
    srv.receive(b"login,alice", A, 0)
    actions = srv.receive(f"login,{look_alike}".encode(), B, 1)
    assert sent(actions) == [] and rejected(actions) == ["name-taken"]
    assert "looks like 'alice'" in actions[-1].detail
    # ... also from alice's own host: a takeover needs the very same name
    assert rejected(srv.receive(f"login,{look_alike}".encode(), A2, 2)) == ["name-taken"]
    assert srv.users == ("alice",)


def test_names_are_kept_and_shown_as_typed_and_freed_by_exit():
    srv = core()
    assert sent(srv.receive(b"login,Alice", A, 0)) == [b"welcome,Alice"]
    assert srv.users == ("Alice",) and srv.address_of("ALICE") == A
    assert sent(srv.receive(b"list,", A, 1)) == [b"list,Alice"]
    assert sent(srv.receive(b"exit,", A, 2)) == [b"bye,Alice"]
    assert sent(srv.receive(b"login,alice", B, 3)) == [b"welcome,alice"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ali\u200bce", "name-invisible"),  # zero-width space
        ("\u2060bob", "name-invisible"),  # word joiner
        ("\u3164", "name-invisible"),  # Hangul filler: a letter that draws nothing
        ("\u202eecila", "name-bidi"),  # right-to-left override
        ("bob\u2066", "name-bidi"),
        ("\u0301\u0301", "name-combining"),  # combining marks only
        ("e" + "\u0301" * 8, "name-combining"),  # a tall stack
    ],
)
def test_hidden_or_reordering_names_are_refused_with_a_reason(name, reason):
    srv = core()
    actions = srv.receive(f"login,{name}".encode(), A, 0)
    assert sent(actions) == [] and rejected(actions) == [reason]
    assert srv.users == ()


@pytest.mark.parametrize(
    "name",
    [
        "Jos\u00e9",
        "\u0928\u093f\u0915\u094d\u0937\u093f",
        "\u0645\u0631\u064a\u0645",
        "\u674e\u96f7",
        "Ana Maria",
    ],
)
def test_names_in_any_script_are_welcome(name):
    assert sent(core().receive(f"login,{name}".encode(), A, 0)) == [f"welcome,{name}".encode()]


def test_same_host_new_port_takes_the_name_over():
    srv = core()
    srv.receive(b"login,alice", C, 0)
    srv.receive(b"login,bob", A, 0)
    actions = srv.receive(b"login,bob", A2, 1)
    assert sent(actions) == [b"welcome,bob"]
    assert RequestArrived("login", "bob", A2, takeover_from=A) in actions
    assert srv.address_of("bob") == A2 and srv.user_at(A) is None
    assert srv.users == ("alice", "bob")  # keeps its place in login order
    assert rejected(srv.receive(b"msg,ghost", A, 2)) == ["not-logged-in"]


def test_an_address_logged_in_must_exit_before_another_name():
    srv = core()
    srv.receive(b"login,bob", A, 0)
    assert rejected(srv.receive(b"login,robert", A, 1)) == ["already-logged-in"]
    assert srv.users == ("bob",)


def test_msg_is_relayed_with_sender_and_commas():
    srv = core()
    srv.receive(b"login,bob", A, 0)
    actions = srv.receive(b"msg,hi, all, again", A, 1)
    assert sent(actions) == [b"msg,bob: hi, all, again"]
    assert RequestArrived("msg", "bob", A, "hi, all, again") in actions


def test_relay_that_would_exceed_1024_bytes_is_refused():
    srv = core()
    srv.receive(b"login,bob", A, 0)
    text = b"x" * (1024 - len(b"msg,"))  # fits as msg, not as "msg,bob: ..."
    actions = srv.receive(b"msg," + text, A, 1)
    assert sent(actions) == [] and rejected(actions) == ["relay-too-long"]


def test_empty_msg_is_refused():
    srv = core()
    srv.receive(b"login,bob", A, 0)
    assert rejected(srv.receive(b"msg,   ", A, 1)) == ["text-empty"]


@pytest.mark.parametrize(
    ("mode", "group", "unicast"),
    [
        (ListReplyMode.GROUP, [b"list,bob,alice"], []),
        (ListReplyMode.UNICAST, [], [(b"list,bob,alice", A)]),
        (ListReplyMode.BOTH, [b"list,bob,alice"], [(b"list,bob,alice", A)]),
    ],
)
def test_list_reply_in_login_order_where_configured(mode, group, unicast):
    srv = core(list_reply=mode)
    srv.receive(b"login,bob", A, 0)
    srv.receive(b"login,alice", B, 0)
    actions = srv.receive(b"list,", A, 1)
    assert sent(actions) == group
    assert [(a.data, a.addr) for a in actions if isinstance(a, SendToAddress)] == unicast


def test_big_roster_is_listed_in_several_datagrams():
    srv = core(max_sessions_per_host=1000)  # a terminal server: many users on one host
    for i in range(200):
        srv.receive(f"login,user-with-a-long-name-{i:04d}".encode(), ("10.1.0.1", 6000 + i), 0)
    replies = sent(srv.receive(b"list,", ("10.1.0.1", 6000), 1))
    assert len(replies) > 1 and all(len(r) <= 1024 for r in replies)
    names = [n for r in replies for n in r.decode().split(",", 1)[1].split(",")]
    assert names == list(srv.users)


def test_exit_says_bye_and_forgets_the_session():
    srv = core()
    srv.receive(b"login,bob", A, 0)
    assert sent(srv.receive(b"exit,bob", A, 1)) == [b"bye,bob"]
    assert srv.users == () and srv.user_at(A) is None
    assert sent(srv.receive(b"login,bob", B, 2)) == [b"welcome,bob"]  # the name is free again


@pytest.mark.parametrize("datagram", [b"msg,hi", b"list,", b"exit,"])
def test_nothing_from_an_unknown_address_is_relayed(datagram):
    srv = core()
    srv.receive(b"login,bob", A, 0)
    actions = srv.receive(datagram, B, 1)
    assert [a for a in actions if isinstance(a, SendToGroup | SendToAddress)] == []
    assert rejected(actions) == ["not-logged-in"]


def test_rate_limit_drops_and_counts():
    srv = ServerCore(ServerConfig(rate_limit=RateLimit(burst=3, per_second=1)))
    srv.receive(b"login,bob", A, 0)  # from the host's budget: a session has its own after
    results = [sent(srv.receive(b"msg,x", A, 0)) for _ in range(5)]
    assert results == [[b"msg,bob: x"]] * 3 + [[]] * 2
    assert srv.rejections["rate-limited"] == 2
    assert sent(srv.receive(b"msg,x", A, 1.0)) == [b"msg,bob: x"]
    assert sent(srv.receive(b"msg,y", B, 0)) == []  # B's own bucket: refused for login only


def test_a_sweep_of_spoofed_ports_shares_one_budget_and_is_said_once():
    """Issue 37, point 3: 28,232 datagrams with alice's IP, one per source port, went
    through in 0.25 s (each port a fresh bucket), and those that hit alice's and bob's
    ports were relayed as theirs.  Ports without a session now share their host's budget:
    the sweep gets a burst, then 10 a second, and the log says once what is going on."""
    srv = ServerCore(ServerConfig(rate_limit=RateLimit(burst=10, per_second=5)))
    alice, bob = ("10.0.0.1", 40001), ("10.0.0.1", 40002)
    srv.receive(b"login,alice", alice, 0.0)
    srv.receive(b"login,bob", bob, 0.0)
    actions = []
    for i in range(28_232):  # 0.25 s, a port each (alice's and bob's are above them)
        port = 1024 + i
        actions += srv.receive(b"msg,alice: give me your password", ("10.0.0.1", port),
                               i * 0.25 / 28_232)  # fmt: skip
    # through: the host's burst of 40 less alice's and bob's logins, and 2 tokens refilled
    assert srv.rejections["host-budget"] == 28_232 - (40 - 2) - 2
    sweeps = [a for a in actions if isinstance(a, HostSweeping)]
    assert len(sweeps) == 1 and sweeps[0].host == "10.0.0.1"
    # alice and bob keep their own budgets meanwhile
    assert sent(srv.receive(b"msg,still here", alice, 0.3)) == [b"msg,alice: still here"]
    assert sent(srv.receive(b"msg,me too", bob, 0.3)) == [b"msg,bob: me too"]
    # at 10 a second, all 65,535 ports of a host take hours
    assert (65_535 - 40) / 10 > 1.8 * 3600
    # and a newcomer on that host can still log in once the sweep's burst has refilled
    assert welcomed(srv.receive(b"login,carol", ("10.0.0.1", 50000), 10.0))


def test_rejections_are_summarised_under_a_flood():
    srv = ServerCore(ServerConfig(rate_limit=None, log_interval=5.0, log_burst=10))
    lines = []
    for i in range(1000):
        lines += srv.receive(b"\xff", ("10.9.9.9", 1000 + i % 7), 1.0 + i * 0.001)
    assert len([a for a in lines if isinstance(a, RequestRejected)]) == 10
    assert not [a for a in lines if isinstance(a, RejectionsSummarised)]
    assert srv.next_deadline() == pytest.approx(6.0)
    assert srv.handle_timer(5.9) == []
    (summary,) = srv.handle_timer(6.0)
    assert isinstance(summary, RejectionsSummarised)
    assert summary.counts == (("not-utf8", 990),) and summary.total == 990
    assert summary.sources == 7
    assert srv.next_deadline() is None
    # a new window starts with individual lines again
    assert rejected(srv.receive(b"\xff", A, 7.0)) == ["not-utf8"]


def test_a_window_also_closes_on_the_next_datagram():
    srv = ServerCore(ServerConfig(rate_limit=None, log_interval=1.0, log_burst=1))
    srv.receive(b"nope", A, 0.0)
    srv.receive(b"nope", A, 0.1)
    actions = srv.receive(b"login,bob", A, 2.0)
    assert [type(a) for a in actions] == [RequestArrived, SendToGroup, RejectionsSummarised]


# --- caps (one host cannot swamp the chat) ---------------------------------------


def welcomed(actions) -> bool:
    return any(data.startswith(b"welcome,") for data in sent(actions))


def group_bytes(actions) -> int:
    return sum(len(a.data) for a in actions if isinstance(a, SendToGroup))


def test_sessions_per_host_are_capped_and_exit_frees_a_place():
    srv = ServerCore(ServerConfig(rate_limit=None, max_sessions_per_host=3))
    for port in range(3):
        assert welcomed(srv.receive(f"login,u{port}".encode(), ("10.0.0.1", port), 0.0))
    refused = srv.receive(b"login,u9", ("10.0.0.1", 9), 0.0)
    assert not welcomed(refused) and srv.rejections["host-sessions-full"] == 1
    assert welcomed(srv.receive(b"login,other", ("10.0.0.2", 1), 0.0))  # another host
    assert welcomed(srv.receive(b"login,u0", ("10.0.0.1", 50), 0.0))  # a takeover adds none
    srv.receive(b"exit,", ("10.0.0.1", 1), 0.0)
    assert welcomed(srv.receive(b"login,u9", ("10.0.0.1", 9), 0.0))


def test_a_gateways_address_is_not_held_to_the_per_host_cap_but_to_the_total():
    srv = ServerCore(
        ServerConfig(
            rate_limit=None, max_sessions_per_host=2, max_sessions=8,
            gateway_hosts=frozenset({"10.0.0.9"}),
        )
    )  # fmt: skip
    for port in range(4):  # a gateway's browsers, each on a port of its own
        assert welcomed(srv.receive(f"login,p{port}".encode(), ("10.0.0.9", port), 0.0))
    assert welcomed(srv.receive(b"login,a", ("10.0.0.1", 1), 0.0))
    assert welcomed(srv.receive(b"login,b", ("10.0.0.1", 2), 0.0))
    assert not welcomed(srv.receive(b"login,c", ("10.0.0.1", 3), 0.0))  # others keep the cap
    assert srv.rejections["host-sessions-full"] == 1
    for port in (4, 5):
        assert welcomed(srv.receive(f"login,p{port}".encode(), ("10.0.0.9", port), 0.0))
    # the chat is full: the host holding the most (a gateway's pages are people) makes room
    assert welcomed(srv.receive(b"login,p9", ("10.0.0.9", 9), 0.0))
    assert srv.users.count("a") + srv.users.count("b") == 1
    assert not welcomed(srv.receive(b"login,p10", ("10.0.0.9", 10), 0.0))  # truly full now
    assert srv.rejections["server-full"] == 1


def test_a_full_chat_still_lets_a_person_in_by_ending_the_longest_silent_phantom():
    """Issue 37, point 4: 1,000 logins from 200 addresses filled --max-sessions and kept
    every newcomer out for the rest of the lesson.  A full chat ends the longest-silent
    session of the host holding the most, and says so (a bye for everyone, a log line);
    a person on a host of their own is never the one ended."""
    srv = ServerCore(ServerConfig(rate_limit=None, max_sessions=1000))
    assert welcomed(srv.receive(b"login,teacher", ("10.0.0.1", 1), 0.0))
    srv.receive(b"msg,good morning", ("10.0.0.1", 1), 1.0)
    for i in range(998):  # 998 phantoms, 5 a host, and one more on the first host
        srv.receive(f"login,x{i}".encode(), (f"10.66.{i // 5 // 250}.{i // 5 % 250}", i), 2.0)
    srv.receive(b"login,extra", ("10.66.0.0", 999), 2.5)
    srv.receive(b"msg,i am real", ("10.66.0.0", 0), 3.0)  # x0 speaks: not the silent one
    assert len(srv.users) == 1000
    actions = srv.receive(b"login,amira", ("10.0.0.2", 7), 4.0)
    assert welcomed(actions) and "amira" in srv.users and "teacher" in srv.users
    (evicted,) = [a for a in actions if isinstance(a, SessionEvicted)]
    assert evicted == SessionEvicted("x1", ("10.66.0.0", 1), 6)  # x0 spoke; x1 never did
    assert b"bye,x1" in sent(actions) and len(srv.users) == 1000
    for i in range(300):  # the phantoms come back: they push out phantoms, never people
        srv.receive(f"login,y{i}".encode(), (f"10.77.0.{i % 200}", 1000 + i), 5.0)
    assert {"teacher", "amira", "x0"} <= set(srv.users) and len(srv.users) == 1000


def test_through_a_gateway_another_port_is_another_person_never_a_takeover():
    """Issue 37, point 1, at the server: a page (a port of the gateway) asking for a name
    held at another port of the gateway's address, a window's on that host included, is
    refused; elsewhere a re-login from the same host still takes its ghost over."""
    srv = ServerCore(ServerConfig(rate_limit=None, gateway_hosts=frozenset({"10.0.0.9"})))
    assert welcomed(srv.receive(b"login,alice", ("10.0.0.9", 1000), 0.0))  # a page
    assert welcomed(srv.receive(b"login,teacher", ("10.0.0.9", 4000), 0.0))  # a window there
    for name in (b"alice", b"teacher"):
        actions = srv.receive(b"login," + name, ("10.0.0.9", 1001), 1.0)
        assert not welcomed(actions) and rejected(actions) == ["name-taken"]
    assert srv.address_of("alice") == ("10.0.0.9", 1000)
    srv.receive(b"login,bob", ("10.0.0.1", 5000), 2.0)
    assert welcomed(srv.receive(b"login,bob", ("10.0.0.1", 5001), 3.0))  # restarted client


def test_sessions_in_total_are_capped():
    srv = ServerCore(ServerConfig(rate_limit=None, max_sessions=2))
    assert welcomed(srv.receive(b"login,a", ("10.0.0.1", 1), 0.0))
    assert welcomed(srv.receive(b"login,b", ("10.0.0.2", 1), 0.0))
    assert not welcomed(srv.receive(b"login,c", ("10.0.0.3", 1), 0.0))
    assert srv.rejections["server-full"] == 1 and srv.users == ("a", "b")


def test_list_replies_to_a_big_roster_are_bounded_per_host():
    srv = ServerCore(ServerConfig(rate_limit=None))
    for i in range(1000):  # a full roster of long names, from many hosts
        srv.receive(f"login,{'n' * 28}{i:04d}".encode(), (f"10.1.{i // 250}.{i % 250}", 1), 0.0)
    asker = ("10.1.0.0", 1)
    first = srv.receive(b"list,", asker, 1.0)
    size = group_bytes(first)
    assert 32_000 < size < 40_000  # the whole roster, once
    sent = size + sum(group_bytes(srv.receive(b"list,", asker, 1.0 + i * 0.01)) for i in range(50))
    assert sent == size and srv.rejections["list-budget"] == 50
    # over a minute of asking twice a second, the host gets at most its budget
    total = sum(group_bytes(srv.receive(b"list,", asker, 2.0 + i * 0.5)) for i in range(120))
    assert total <= 8_000 * 60 + 40_000


def test_small_rosters_are_listed_for_every_window_on_one_host():
    srv = ServerCore(ServerConfig(rate_limit=None))
    for port in range(10):  # ten windows on one PC, each asking after its login
        srv.receive(f"login,u{port}".encode(), ("127.0.0.1", port), 0.0)
        assert group_bytes(srv.receive(b"list,", ("127.0.0.1", port), 0.0)) > 0


def test_no_request_makes_more_than_a_bounded_multiple_of_its_size():
    srv = ServerCore(ServerConfig(rate_limit=None))
    for i in range(30):
        srv.receive(f"login,user{i}".encode(), ("10.0.0.1", i), 0.0)
    for data in (b"login,newname", b"msg," + b"x" * 900, b"exit,"):
        out = srv.receive(data, ("10.0.0.1", 0), 1.0)
        assert group_bytes(out) <= len(data) + 40  # the name prefix of a relay at most


def test_a_client_that_types_the_spec_line_into_a_login_prompt_is_logged_in():
    srv = core()  # such a client sends "login," + what was typed: "login,login,bob"
    assert sent(srv.receive(b"login,login,bob", A, 0)) == [b"welcome,bob"]
    assert srv.user_at(A) == "bob"


def test_list_replies_follow_every_login_and_exit():
    srv = core()
    srv.receive(b"login,a", ("10.0.0.1", 1), 0)
    assert sent(srv.receive(b"list,", ("10.0.0.1", 1), 0)) == [b"list,a"]
    srv.receive(b"login,b", ("10.0.0.2", 1), 0)
    assert sent(srv.receive(b"list,", ("10.0.0.1", 1), 0)) == [b"list,a,b"]
    srv.receive(b"exit,", ("10.0.0.1", 1), 0)
    assert sent(srv.receive(b"list,", ("10.0.0.2", 1), 0)) == [b"list,b"]
    srv.receive(b"login,b", ("10.0.0.2", 2), 0)  # a takeover: the same names
    assert sent(srv.receive(b"list,", ("10.0.0.2", 2), 0)) == [b"list,b"]


# One scenario per row of the login table: (who is logged in where, the login asked).
LOGIN_SCENARIOS = {
    ("new", "nobody"): ([], A, "bob"),
    ("new", "same host"): ([("bob", A)], A2, "bob"),
    ("new", "other host"): ([("bob", A)], B, "bob"),
    ("new", "look-alike"): ([("bob", A)], B, "BOB"),
    ("active", "this address"): ([("bob", A)], A, "bob"),
    ("active", "nobody"): ([("bob", A)], A, "carol"),
    ("active", "same host"): ([("bob", A), ("carol", A2)], A, "carol"),
    ("active", "other host"): ([("bob", A), ("carol", B)], A, "carol"),
    ("active", "look-alike"): ([("bob", A)], A, "BOB"),
}


@pytest.mark.parametrize("row", sorted(LOGIN_SCENARIOS))
def test_the_server_does_what_each_login_rule_says(row):
    from protocol_lib import Reason, canonical_name
    from protocol_lib.session import LOGIN_RULES, NameHolder, SessionState, name_holder

    assert set(LOGIN_SCENARIOS) == {(s.value, h.value) for s, h in LOGIN_RULES}
    logged_in, addr, name = LOGIN_SCENARIOS[row]
    srv = core()
    for user, at in logged_in:
        srv.receive(f"login,{user}".encode(), at, 0)
    key = canonical_name(name)
    holder = next((srv._by_addr[at] for u, at in logged_in if canonical_name(u) == key), None)
    state = SessionState.ACTIVE if srv.user_at(addr) else SessionState.NEW
    assert (state, name_holder(addr, name, holder)) == (SessionState(row[0]), NameHolder(row[1]))
    before = srv.users
    actions = srv.receive(f"login,{name}".encode(), addr, 1)
    rule = LOGIN_RULES[SessionState(row[0]), NameHolder(row[1])]
    if isinstance(rule, Reason):
        assert rejected(actions) == [rule] and sent(actions) == [] and srv.users == before
    else:
        assert sent(actions) == [f"welcome,{name}".encode()] and srv.user_at(addr) == name


@given(text=st.one_of(texts, st.text(max_size=30), st.just(" padded "), st.just("\u00a0nbsp")))
def test_every_chat_line_is_relayed_exactly_as_the_full_path_would(text):
    """The hot path (plain_chat_text + the cached prefix) and the full path agree."""
    from protocol_lib import ChatRelay, text_problem

    srv = core()
    srv.receive(b"login,bob", A, 0)
    data = f"msg,{text}".encode()
    actions = srv.receive(data, A, 1)
    body = text.strip()
    if text_problem(body) is not None:
        assert sent(actions) == [] and rejected(actions)
        return
    relay = ChatRelay.attributed("bob", body)
    if len(relay.text.encode()) + 4 > 1024:
        assert rejected(actions) == ["relay-too-long"]
        return
    assert actions == [RequestArrived("msg", "bob", A, body), SendToGroup(relay.encode())]


def test_closing_says_bye_for_every_user_and_forgets_them():
    srv = core()
    srv.receive(b"login,alice", A, 0)
    srv.receive(b"login,bob", B, 0)
    assert sent(srv.close()) == [b"bye,alice", b"bye,bob"]
    assert srv.users == () and srv.user_at(A) is None
    assert sent(srv.receive(b"login,bob", C, 1)) == [b"welcome,bob"]  # a fresh start


_ADDRESSES = [A, A2, B, C, ("10.0.0.2", 5001)]
_LOGIN_NAMES = ["bob", "Bob", "BOB ", "b\u043eb", "alice", "al ice", "x" * 33, ""]
_requests = st.one_of(
    st.builds(lambda n: f"login,{n}".encode(), st.sampled_from(_LOGIN_NAMES)),
    st.builds(lambda n: f"login, {n}".encode(), st.sampled_from(_LOGIN_NAMES)),
    st.sampled_from([b"exit,", b"list,", b"msg,hi", b"login,login,bob"]),
)


@given(st.lists(st.tuples(_requests, st.sampled_from(_ADDRESSES)), max_size=30))
def test_the_login_hot_path_decides_as_the_rules_do(steps):
    """A server with the login hot path and one without it answer every sequence of
    requests alike: same actions, same users (the caps included)."""
    fast = core(max_sessions_per_host=1, max_sessions=2)
    full = core(max_sessions_per_host=1, max_sessions=2)
    full._join_plain = lambda data, addr, now, out: False  # type: ignore[method-assign]
    for now, (data, addr) in enumerate(steps):
        assert fast.receive(data, addr, now) == full.receive(data, addr, now), data
        assert fast.users == full.users


def test_the_login_hot_path_is_taken_for_a_plain_new_name(monkeypatch):
    """The test above would pass if the hot path were never taken; it is."""
    taken = []
    srv = core()
    join = srv._join
    monkeypatch.setattr(srv, "_join", lambda *args: taken.append(args[0]) or join(*args))
    monkeypatch.setattr(srv, "_login", lambda *args: pytest.fail("the full path ran"))
    assert sent(srv.receive(b"login,bob", A, 0)) == [b"welcome,bob"]
    assert taken == ["bob"] and srv.users == ("bob",)


def test_actions_of_different_kinds_are_never_equal():
    """Issue 39, point 6: ``Publish(e) == RemoteEvent(e)`` and ``SendToGroup(b"x") ==
    (b"x",)`` were True (tuples compare by value), so a test comparing lists of actions
    could not tell them apart.  Same kind and fields: equal, with the same hash."""
    from protocol_lib.federation import EventKind, Publish, RemoteEvent, SiteEvent
    from protocol_lib.server_events import SendToAddress, SendToGroup

    event = SiteEvent("labA", 1, 1, EventKind.WELCOME, "ana")
    assert Publish(event) != RemoteEvent(event) and not Publish(event) == RemoteEvent(event)
    assert SendToGroup(b"x") != (b"x",) and SendToGroup(b"x") == SendToGroup(b"x")
    assert SendToAddress(b"x", ("h", 1)) != (b"x", ("h", 1))
    assert [SendToGroup(b"x")] != [(b"x",)]
    assert len({SendToGroup(b"x"), SendToGroup(b"x")}) == 1
