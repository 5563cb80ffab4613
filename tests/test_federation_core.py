"""Federation's decisions without a broker: FederatedServerCore, fed by hand.

Each test plays the broker's side (claim answers, other sites' events,
heartbeats, the link going down and up) with injected time, and checks what
this site sends to its LAN and asks of the broker.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol_lib import RequestRejected, SendToGroup, ServerConfig, ServerCore
from protocol_lib.errors import RemoteProtocolError
from protocol_lib.federated_server import FederatedServerCore
from protocol_lib.federation import (
    ClaimAnswered,
    ClaimName,
    ClaimOutcome,
    EventBatch,
    EventKind,
    FederationConfig,
    FederationNotice,
    LinkChanged,
    NameClaim,
    Publish,
    ReleaseNames,
    RemoteEvent,
    SiteEvent,
    SiteHeard,
    decode_events,
    encode_events,
    name_key,
)
from protocol_lib.reasons import Reason
from tests.strategies import texts

A = ("10.0.0.1", 5000)
B = ("10.0.0.2", 5000)
EPOCH = 1_000
TIMEOUT = 10.0


def site(name: str = "labA", up: bool = True, claims=()) -> FederatedServerCore:
    core = FederatedServerCore(
        ServerConfig(rate_limit=None), FederationConfig(name, EPOCH, site_timeout=TIMEOUT)
    )
    if up:
        core.federated(LinkChanged(True, tuple(claims)), 0.0)
    return core


def sent(actions) -> list[bytes]:
    return [a.data for a in actions if isinstance(a, SendToGroup)]


def published(actions) -> list[SiteEvent]:
    return [a.event for a in actions if isinstance(a, Publish)]


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


def remote(kind, user="", text="", seq=1, origin="labB", epoch=7, users=()) -> RemoteEvent:
    return RemoteEvent(SiteEvent(origin, epoch, seq, EventKind(kind), user, text, tuple(users)))


def logged_in(core: ServerCore, name: str, addr, now: float = 1.0) -> list:
    """Log in and answer the claim as granted; everything the core did."""
    actions = core.receive(f"login,{name}".encode(), addr, now)
    claims = of(actions, ClaimName)
    assert len(claims) == 1 and claims[0].user == name and claims[0].key == name_key(name)
    assert sent(actions) == []  # nobody is welcomed before the broker says the name is free
    return core.federated(ClaimAnswered(name, addr, ClaimOutcome.GRANTED), now)


# --- logins ----------------------------------------------------------------------


def test_a_login_is_welcomed_only_when_its_claim_is_granted_and_then_published():
    core = site()
    actions = logged_in(core, "alice", A)
    assert sent(actions) == [b"welcome,alice"]
    assert [(e.kind, e.user, e.seq) for e in published(actions)] == [("welcome", "alice", 2)]
    assert core.user_at(A) == "alice"


def test_a_name_held_at_another_site_is_refused_like_a_local_clash():
    core = site()
    core.receive(b"login,alice", A, 1.0)
    holder = NameClaim("alice", "labB", 7)
    actions = core.federated(ClaimAnswered("alice", A, ClaimOutcome.HELD, holder), 1.1)
    assert sent(actions) == []
    [rejection] = of(actions, RequestRejected)
    assert rejection.reason is Reason.NAME_TAKEN and "site labB" in rejection.detail
    assert core.user_at(A) is None


def test_a_name_shown_from_another_site_is_refused_without_asking_the_broker():
    core = site()
    core.federated(remote("welcome", "Alice"), 1.0)
    actions = core.receive(b"login,ALICE", A, 1.1)  # a look-alike of a remote user
    assert of(actions, ClaimName) == []
    assert [r.reason for r in of(actions, RequestRejected)] == [Reason.NAME_TAKEN]


def test_a_second_host_asking_for_a_name_being_claimed_is_refused_and_a_retry_waits():
    core = site()
    core.receive(b"login,alice", A, 1.0)
    retry = core.receive(b"login,alice", A, 1.1)
    assert of(retry, ClaimName) == [] and of(retry, RequestRejected) == []
    other = core.receive(b"login,alice", B, 1.2)
    assert [r.reason for r in of(other, RequestRejected)] == [Reason.NAME_TAKEN]


def test_a_stale_claim_answer_changes_nothing():
    core = site()
    actions = core.federated(ClaimAnswered("alice", A, ClaimOutcome.GRANTED), 1.0)
    assert actions == [] and core.users == ()


def test_cut_off_a_site_serves_its_lan_alone_and_asserts_the_names_when_back():
    core = site(up=False)
    actions = core.receive(b"login,alice", A, 1.0)
    assert sent(actions) == [b"welcome,alice"] and of(actions, ClaimName) == []
    assert [e.kind for e in published(actions)] == ["welcome"]  # queued until the link is up
    back = core.federated(LinkChanged(True, ()), 2.0)
    [claim] = of(back, ClaimName)
    assert claim.user == "alice" and claim.reassert
    [roster] = [e for e in published(back) if e.kind == "roster"]
    assert roster.users == ("alice",)


def test_a_claim_unanswerable_because_the_link_broke_lets_the_site_decide_alone():
    core = site()
    core.receive(b"login,alice", A, 1.0)
    core.federated(LinkChanged(False), 1.1)
    actions = core.federated(ClaimAnswered("alice", A, ClaimOutcome.UNAVAILABLE), 1.2)
    assert sent(actions) == [b"welcome,alice"]


def test_a_name_taken_elsewhere_while_cut_off_ends_the_local_session_with_a_bye():
    core = site(up=False)
    core.receive(b"login,alice", A, 1.0)
    core.federated(LinkChanged(True, ()), 2.0)
    holder = NameClaim("alice", "labB", 7)
    actions = core.federated(ClaimAnswered("alice", A, ClaimOutcome.HELD, holder, True), 2.1)
    assert sent(actions) == [b"bye,alice"]
    assert core.user_at(A) is None
    assert any("site labB" in n.text for n in of(actions, FederationNotice))


def test_exit_publishes_the_bye_and_releases_the_name():
    core = site()
    logged_in(core, "alice", A)
    actions = core.receive(b"exit,", A, 2.0)
    assert sent(actions) == [b"bye,alice"]
    assert [e.kind for e in published(actions)] == ["bye"]
    assert of(actions, ReleaseNames) == [ReleaseNames("labA", EPOCH, (name_key("alice"),))]
    # The name is released before the others hear the bye (they may try it at once).
    kinds = [type(a) for a in actions if isinstance(a, (ReleaseNames, Publish))]
    assert kinds == [ReleaseNames, Publish]


def test_chat_lines_are_published_in_order_with_increasing_seq():
    core = site()
    logged_in(core, "alice", A)
    events = []
    for i in range(3):
        events += published(core.receive(f"msg,line {i}".encode(), A, 2.0 + i))
    assert [(e.kind, e.text) for e in events] == [("msg", f"line {i}") for i in range(3)]
    assert [e.seq for e in events] == sorted({e.seq for e in events})
    # made without the NamedTuples' __new__ (for speed): still whole events of their type
    assert all(type(e) is SiteEvent and e == SiteEvent(*e) for e in events)
    assert events[0] == SiteEvent("labA", EPOCH, events[0].seq, EventKind.MSG, "alice", "line 0")
    batches = [EventBatch.of(events[:2]), EventBatch.of(events[2:])]
    assert len({b.dedup_id for b in batches}) == 2
    assert [b.subject for b in batches] == ["lanchat.events.labA"] * 2


def test_stopping_says_bye_everywhere_and_releases_every_name():
    """By key, the users' names and the claims still out: a stopping site does not list
    the broker's bucket (a busy broker may not answer before the stop's deadline)."""
    core = site()
    logged_in(core, "alice", A)
    assert of(core.receive(b"login,bob", B, 2.0), ClaimName)  # out, not answered yet
    actions = core.close()
    assert sent(actions) == [b"bye,alice"]
    assert [e.kind for e in published(actions)] == ["bye"]
    keys = tuple(sorted([name_key("alice"), name_key("bob")]))
    assert of(actions, ReleaseNames) == [ReleaseNames("labA", EPOCH, keys)]
    kinds = [type(a) for a in actions if isinstance(a, ReleaseNames | Publish)]
    assert kinds == [ReleaseNames, Publish]  # the names are free before the others hear the bye


# --- other sites' events -----------------------------------------------------------


def test_remote_events_become_ordinary_lines_and_list_replies_name_every_site():
    core = site()
    logged_in(core, "alice", A)
    out = []
    out += core.federated(remote("welcome", "bob", seq=1), 2.0)
    out += core.federated(remote("msg", "bob", "hi", seq=2), 2.1)
    assert sent(out) == [b"welcome,bob", b"msg,bob: hi"]
    assert published(out) == []  # never republished: no loops
    assert sent(core.receive(b"list,", A, 2.2)) == [b"list,alice,bob"]
    assert sent(core.federated(remote("bye", "bob", seq=3), 2.3)) == [b"bye,bob"]
    assert core.users == ("alice",)


def test_a_repeated_or_own_event_is_shown_once():
    core = site()
    assert sent(core.federated(remote("msg", "bob", "hi", seq=1), 1.0)) == [b"msg,bob: hi"]
    assert sent(core.federated(remote("msg", "bob", "hi", seq=1), 1.1)) == []
    own = remote("msg", "alice", "mine", origin="labA", epoch=EPOCH)
    assert sent(core.federated(own, 1.2)) == []


def test_events_arriving_out_of_order_are_each_shown_once():
    core = site()
    lines = []
    for seq in (1, 3, 2, 3, 1, 4):
        lines += sent(core.federated(remote("msg", "bob", f"n{seq}", seq=seq), 1.0))
    assert lines == [b"msg,bob: n1", b"msg,bob: n3", b"msg,bob: n2", b"msg,bob: n4"]


def test_a_restarted_site_s_former_users_leave_and_its_late_lines_still_show():
    core = site()
    core.federated(remote("welcome", "bob", seq=1, epoch=7), 1.0)
    restart = core.federated(SiteHeard("labB", 8), 2.0)
    assert sent(restart) == [b"bye,bob"]
    late = core.federated(remote("msg", "bob", "typed before", seq=2, epoch=7), 2.1)
    assert sent(late) == [b"msg,bob: typed before"]
    assert sent(core.federated(remote("welcome", "bob", seq=3, epoch=7), 2.2)) == []


def test_a_roster_reconciles_a_site_s_users():
    core = site()
    core.federated(remote("welcome", "bob", seq=1), 1.0)
    core.federated(remote("welcome", "carol", seq=2), 1.0)
    actions = core.federated(remote("roster", users=("carol", "dave"), seq=3), 1.1)
    assert sent(actions) == [b"bye,bob", b"welcome,dave"]


def test_a_remote_user_clashing_with_a_local_one_is_not_shown_and_is_noted():
    core = site()
    logged_in(core, "alice", A)
    actions = core.federated(remote("welcome", "alice", seq=1), 2.0)
    assert sent(actions) == [] and of(actions, FederationNotice)
    assert sent(core.federated(remote("bye", "alice", seq=2), 2.1)) == []  # not theirs to end
    assert core.user_at(A) == "alice"


# --- liveness ------------------------------------------------------------------------


def test_a_silent_site_s_users_leave_after_the_timeout_and_its_names_are_released():
    core = site()
    core.federated(SiteHeard("labB", 7), 1.0)
    core.federated(remote("welcome", "bob", seq=1), 1.0)
    assert core.next_deadline() == pytest.approx(1.0 + TIMEOUT)
    assert sent(core.handle_timer(1.0 + TIMEOUT - 0.1)) == []
    actions = core.handle_timer(1.0 + TIMEOUT)
    assert sent(actions) == [b"bye,bob"]
    assert of(actions, ReleaseNames) == [ReleaseNames("labB", 7, None)]
    assert core.users == () and core.next_deadline() is None
    # A claim made before that release reached the broker may clear the stale entry.
    [claim] = of(core.receive(b"login,bob", A, 12.0), ClaimName)
    assert claim.stale == {("labB", 7)}


def test_heartbeats_keep_a_site_and_a_cut_off_site_gives_up_nobody():
    core = site()
    core.federated(remote("welcome", "bob", seq=1), 1.0)
    for t in range(2, 40, 2):
        core.federated(SiteHeard("labB", 7), float(t))
        assert sent(core.handle_timer(float(t))) == []
    core.federated(LinkChanged(False), 40.0)
    assert sent(core.handle_timer(100.0)) == []  # we heard nobody: that says nothing of them
    core.federated(LinkChanged(True, (NameClaim("bob", "labB", 7),)), 100.0)
    assert sent(core.handle_timer(100.0 + TIMEOUT - 1)) == []  # a whole timeout to be heard
    assert sent(core.handle_timer(100.0 + TIMEOUT)) == [b"bye,bob"]


def test_a_lost_site_coming_back_is_shown_again_from_its_roster():
    core = site()
    core.federated(remote("welcome", "bob", seq=1), 0.0)
    core.handle_timer(TIMEOUT)
    assert core.users == ()
    assert sent(core.federated(remote("msg", "bob", "still here?", seq=2), 20.0)) == [
        b"msg,bob: still here?"
    ]
    back = core.federated(remote("roster", users=("bob",), seq=3), 20.1)
    assert sent(back) == [b"welcome,bob"]


def test_the_names_read_at_link_up_reconcile_the_roster_and_release_own_stale_claims():
    core = site()
    core.federated(remote("welcome", "bob", seq=1), 1.0)
    core.federated(LinkChanged(False), 2.0)
    claims = (
        NameClaim("carol", "labC", 3),  # joined while we were away
        NameClaim("zed", "labA", EPOCH - 1),  # our former run's, never released
    )
    actions = core.federated(LinkChanged(True, claims), 3.0)
    assert sent(actions) == [b"bye,bob", b"welcome,carol"]
    assert ReleaseNames("labA", EPOCH - 1, (name_key("zed"),)) in of(actions, ReleaseNames)


# --- the event codec -------------------------------------------------------------------


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["welcome", "msg", "bye", "roster"]),
            st.sampled_from(["bob", "Zoë", "李"]),
            texts,
        ),
        min_size=1,
        max_size=5,
    ),
    st.integers(1, 2**40),
)
def test_every_batch_reads_back_as_sent(items, seq):
    events = [
        SiteEvent(
            "lab-B_2",
            5,
            seq + i,
            EventKind(kind),
            user if kind != "roster" else "",
            text if kind == "msg" else "",
            (user, "carol") if kind == "roster" else (),
        )
        for i, (kind, user, text) in enumerate(items)
    ]
    assert decode_events(encode_events(events)) == (events, [])


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["welcome", "msg", "bye", "roster"]),
            st.sampled_from(["labA", "lab-B_2"]),
            st.integers(0, 2**63),
            st.text(max_size=12),  # any text: quotes, backslashes, controls, surrogates
            st.text(max_size=40),
        ),
        max_size=6,
    ),
    st.integers(1, 2**40),
)
def test_the_encoder_writes_exactly_what_json_dumps_writes(items, seq):
    """encode_events writes its JSON by hand (for speed); sites of any version read it
    only if it is the same bytes as the dicts through json.dumps."""
    import json

    events = [
        SiteEvent(site, epoch, seq + i, EventKind(k), user, text, (user, text) * (k == "roster"))
        for i, (k, site, epoch, user, text) in enumerate(items)
    ]

    from protocol_lib.federation import _event_fields  # the format: one dict per event

    expected = json.dumps(
        [_event_fields(e) for e in events], ensure_ascii=False, separators=(",", ":")
    )
    try:
        wanted = expected.encode()
    except UnicodeEncodeError:  # a lone surrogate: neither form can be sent
        with pytest.raises(UnicodeEncodeError):
            encode_events(events)
        return
    assert encode_events(events) == wanted


@given(st.binary(max_size=300))
def test_any_bytes_decode_or_raise_our_error(data):
    try:
        _, errors = decode_events(data)
    except RemoteProtocolError as exc:
        assert exc.reason is Reason.FEDERATION_EVENT
        return
    assert all(e.reason is Reason.FEDERATION_EVENT for e in errors)


@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["site", "epoch", "seq", "kind", "user", "text", "users"]),
            st.one_of(
                st.none(),
                st.booleans(),
                st.integers(),
                st.text(max_size=20),
                st.lists(st.text(max_size=5), max_size=3),
                st.just("msg"),
                st.just("labB"),
            ),
        ),
        max_size=3,
    )
)
def test_any_json_events_decode_each_or_cost_only_themselves(items):
    import json

    events, errors = decode_events(json.dumps(items).encode())
    assert len(events) + len(errors) == len(items)
    assert decode_events(encode_events(events)) == (events, []) if events else True


def test_one_bad_event_in_a_batch_costs_only_itself():
    good = SiteEvent("labB", 1, 1, EventKind.MSG, "bob", "fine")
    data = b"[" + encode_events([good])[1:-1] + b',{"site":"labB","kind":"msg"}]'
    events, errors = decode_events(data)
    assert events == [good] and len(errors) == 1


@pytest.mark.parametrize(
    "item",
    [
        b'{"site":"labB","epoch":1,"seq":1,"kind":"msg","user":"bob","text":"a\\nb"}',
        b'{"site":"lab B","epoch":1,"seq":1,"kind":"bye","user":"bob"}',
        b'{"site":"labB","epoch":1,"seq":0,"kind":"bye","user":"bob"}',
        b'{"site":"labB","epoch":true,"seq":1,"kind":"bye","user":"bob"}',
        b'{"site":"labB","epoch":1,"seq":1,"kind":"welcome","user":"a,b"}',
        b'{"site":"labB","epoch":1,"seq":1,"kind":"roster","users":["ok","\\u202ebad"]}',
    ],
)
def test_events_that_could_corrupt_a_lan_are_refused(item):
    events, errors = decode_events(b"[" + item + b"]")
    assert events == [] and len(errors) == 1


@pytest.mark.parametrize("data", [b"[" * 100_000, b'{"site":"labB"}', b"x" * (600 * 1024)])
def test_messages_that_are_not_a_list_of_events_are_refused(data):
    with pytest.raises(RemoteProtocolError):
        decode_events(data)


@given(st.binary(max_size=200))
def test_any_claim_value_decodes_or_raises_our_error(data):
    try:
        NameClaim.decode(data)
    except RemoteProtocolError as exc:
        assert exc.reason is Reason.FEDERATION_EVENT


def test_look_alike_names_share_one_key_and_keys_are_valid_nats_keys():
    import re

    assert name_key("alice") == name_key("ALICE") == name_key("\u0430lice")  # Cyrillic a
    assert name_key("alice") != name_key("alicia")
    for user in ("alice", "李小龙", "Zoë 2"):
        assert re.fullmatch(r"[-/_=.a-zA-Z0-9]+", name_key(user))


def test_a_grant_for_a_name_shown_from_another_site_meanwhile_is_not_a_second_user():
    """Found by the stateful test: a remote welcome between our claim and its answer."""
    core = site()
    core.receive(b"login,bob", A, 1.0)
    core.federated(remote("welcome", "bob", seq=1), 1.1)
    actions = core.federated(ClaimAnswered("bob", A, ClaimOutcome.GRANTED), 1.2)
    assert sent(actions) == [] and core.users == ("bob",)
    assert [r.reason for r in of(actions, RequestRejected)] == [Reason.NAME_TAKEN]
    assert of(actions, ReleaseNames) == [ReleaseNames("labA", EPOCH, (name_key("bob"),))]


def test_the_site_s_log_says_who_came_and_went_at_which_site():
    core = site()
    came = core.federated(remote("welcome", "bob", seq=1), 1.0)
    went = core.federated(remote("bye", "bob", seq=2), 1.1)
    assert [n.text for n in of(came, FederationNotice)] == ["'bob' joined at site labB"]
    assert [n.text for n in of(went, FederationNotice)] == ["'bob' left at site labB"]
    core.federated(remote("welcome", "carol", seq=3), 1.2)
    lost = core.handle_timer(1.2 + TIMEOUT)
    assert [n.text for n in of(lost, FederationNotice)] == [
        "'carol' left at site labB",
        "site labB silent for 10 s: its 1 user(s) left",
    ]


def test_the_core_reads_from_its_hooks_whether_it_decides_alone():
    """No flag to keep in step by hand: a core whose hooks are filled in publishes its
    lines and leaves the login hot path; the one-LAN core does neither."""
    alone, federated = ServerCore(ServerConfig(rate_limit=None)), site(up=False)
    assert alone._plain_joins and not alone._tells_others
    assert not federated._plain_joins and federated._tells_others
