"""A FederatedServerCore under any interleaving of local requests and broker inputs.

Hypothesis drives logins, lines and exits from a few addresses, the answers to
their name claims (in any order, granted, held or unanswerable), other sites'
events (repeated, out of order, from restarted sites), heartbeats, the link
going down and up, and time.  Whatever happens: nothing raises, everything sent
to the LAN is a datagram every client can read, no name is shown twice, and a
site never republishes another site's event.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from protocol_lib import (
    MAX_DATAGRAM_BYTES,
    SendToAddress,
    SendToGroup,
    ServerConfig,
    canonical_name,
    parse_server,
)
from protocol_lib.federated_server import FederatedServerCore
from protocol_lib.federation import (
    ClaimAnswered,
    ClaimName,
    ClaimOutcome,
    EventKind,
    FederationConfig,
    LinkChanged,
    NameClaim,
    Publish,
    RemoteEvent,
    SiteEvent,
    SiteHeard,
)

ADDRESSES = [("10.0.0.1", 4000), ("10.0.0.2", 4000), ("10.0.0.2", 4001)]
NAMES = ["bob", "alice", "Bob", "b\u043eb", "carol"]
SITES = ["labB", "labC"]


class FederatedSite(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.core = FederatedServerCore(
            ServerConfig(rate_limit=None), FederationConfig("labA", 100, site_timeout=5.0)
        )
        self.now = 0.0
        self.claims: list[ClaimName] = []  # asked, not answered yet
        self.seq = {site: 0 for site in SITES}
        self.epoch = {site: 1 for site in SITES}

    def _take(self, out: list) -> None:
        for action in out:
            if isinstance(action, SendToGroup | SendToAddress):
                assert len(action.data) <= MAX_DATAGRAM_BYTES
                parse_server(action.data)
            elif isinstance(action, ClaimName):
                self.claims.append(action)
            elif isinstance(action, Publish):
                assert action.event.site == "labA"  # only our own, never a relay of theirs

    def _tick(self, dt: float) -> float:
        self.now += dt
        return self.now

    # --- local requests ---

    @rule(addr=st.sampled_from(ADDRESSES), name=st.sampled_from(NAMES))
    def login(self, addr, name):
        self._take(self.core.receive(f"login,{name}".encode(), addr, self._tick(0.01)))

    @rule(addr=st.sampled_from(ADDRESSES), text=st.sampled_from(["hi", "x" * 900]))
    def say(self, addr, text):
        self._take(self.core.receive(f"msg,{text}".encode(), addr, self._tick(0.01)))

    @rule(addr=st.sampled_from(ADDRESSES))
    def leave(self, addr):
        self._take(self.core.receive(b"exit,", addr, self._tick(0.01)))

    @rule(addr=st.sampled_from(ADDRESSES))
    def ask_list(self, addr):
        self._take(self.core.receive(b"list,", addr, self._tick(0.01)))

    # --- the broker's side ---

    @precondition(lambda self: self.claims)
    @rule(
        pick=st.integers(0, 100),
        outcome=st.sampled_from(list(ClaimOutcome)),
        holder=st.sampled_from(SITES),
    )
    def answer_claim(self, pick, outcome, holder):
        claim = self.claims.pop(pick % len(self.claims))
        held = NameClaim(claim.user, holder, 1) if outcome is ClaimOutcome.HELD else None
        answer = ClaimAnswered(claim.user, claim.addr, outcome, held, claim.reassert)
        self._take(self.core.federated(answer, self._tick(0.01)))

    @rule(
        site=st.sampled_from(SITES),
        kind=st.sampled_from(list(EventKind)),
        name=st.sampled_from(NAMES),
        back=st.integers(0, 2),
        restart=st.booleans(),
    )
    def remote_event(self, site, kind, name, back, restart):
        if restart:
            self.epoch[site] += 1
            self.seq[site] = 0
        self.seq[site] += 1
        seq = max(1, self.seq[site] - back)  # sometimes a repeat or a late one
        users = (name, "dave") if kind is EventKind.ROSTER else ()
        event = SiteEvent(
            site, self.epoch[site], seq, kind, "" if users else name,
            "hello" if kind is EventKind.MSG else "", users,
        )  # fmt: skip
        self._take(self.core.federated(RemoteEvent(event), self._tick(0.01)))

    @rule(site=st.sampled_from(SITES))
    def heartbeat(self, site):
        self._take(self.core.federated(SiteHeard(site, self.epoch[site]), self._tick(0.5)))

    @rule(up=st.booleans(), holders=st.lists(st.sampled_from(NAMES), max_size=2))
    def link(self, up, holders):
        claims = tuple(NameClaim(name, "labB", self.epoch["labB"]) for name in holders)
        self._take(self.core.federated(LinkChanged(up, claims if up else ()), self._tick(0.01)))

    @rule(dt=st.sampled_from([0.1, 2.0, 6.0]))
    def time_passes(self, dt):
        self._take(self.core.handle_timer(self._tick(dt)))

    # --- what must always hold ---

    @invariant()
    def no_name_is_shown_twice(self):
        users = self.core.users
        assert len({canonical_name(u) for u in users}) == len(users), users


FederatedSite.TestCase.settings = settings(
    max_examples=300, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip
test_a_federated_site = FederatedSite.TestCase
