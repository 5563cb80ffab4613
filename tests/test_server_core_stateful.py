"""ServerCore against a simple model, driven by hypothesis' rule-based state machine."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from protocol_lib import (
    MAX_DATAGRAM_BYTES,
    Bye,
    ChatRelay,
    SendToAddress,
    SendToGroup,
    ServerConfig,
    ServerCore,
    UserList,
    Welcome,
    canonical_name,
    name_problem,
    parse_server,
)

HOSTS = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
ADDRESSES = [(h, p) for h in HOSTS for p in (4000, 4001, 4002)]
NAMES = [
    "bob",
    "alice",
    "carol",
    "dave",
    "a,b",
    "",
    "x" * 40,
    " eve ",
    "Bob",
    "b\u043eb",
    "bo\u200bb",
]

addresses = st.sampled_from(ADDRESSES)


class ServerModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.core = ServerCore(ServerConfig(rate_limit=None))
        self.by_addr: dict[tuple[str, int], str] = {}  # the model: who is logged in where
        self.order: list[str] = []
        self.now = 0.0
        self.last_out: list = []

    def _receive(self, data: bytes, addr) -> list:
        self.now += 0.01
        out = self.core.receive(data, addr, self.now)
        self.last_out = out
        for action in out:
            if isinstance(action, SendToGroup | SendToAddress):
                assert len(action.data) <= MAX_DATAGRAM_BYTES
                parse_server(action.data)  # everything we send is readable
        return out

    @staticmethod
    def _sent(out) -> list:
        return [parse_server(a.data) for a in out if isinstance(a, SendToGroup)]

    @rule(addr=addresses, raw=st.sampled_from(NAMES))
    def login(self, addr, raw):
        out = self._sent(self._receive(f"login,{raw}".encode(), addr))
        name = raw.strip()
        key = canonical_name(name)
        holder = next((a for a, n in self.by_addr.items() if canonical_name(n) == key), None)
        current = self.by_addr.get(addr)
        ok = (
            name_problem(name) is None
            and (current is None or current == name)
            and (holder is None or self.by_addr[holder] == name)
            and (holder is None or holder == addr or holder[0] == addr[0])
        )
        if ok:
            assert out == [Welcome(name)]
            if holder is not None and holder != addr:
                del self.by_addr[holder]
            if name not in self.order:
                self.order.append(name)
            self.by_addr[addr] = name
        else:
            assert out == []

    @rule(addr=addresses, text=st.sampled_from(["hi", "hi, all", "x" * 1015, "  "]))
    def msg(self, addr, text):
        out = self._sent(self._receive(f"msg,{text}".encode(), addr))
        user = self.by_addr.get(addr)
        if user is None or not text.strip():
            assert out == []
        elif len(f"msg,{user}: {text}".encode()) <= MAX_DATAGRAM_BYTES:
            assert out == [ChatRelay(f"{user}: {text}")]
        else:
            assert out == []

    @rule(addr=addresses)
    def list_users(self, addr):
        out = self._sent(self._receive(b"list,", addr))
        if addr in self.by_addr:
            assert [u for reply in out for u in reply.users] == self.order
            assert all(isinstance(r, UserList) for r in out)
        else:
            assert out == []

    @rule(addr=addresses)
    def exit(self, addr):
        out = self._sent(self._receive(b"exit,", addr))
        user = self.by_addr.pop(addr, None)
        if user is None:
            assert out == []
        else:
            assert out == [Bye(user)]
            self.order.remove(user)

    @rule(addr=addresses, data=st.binary(max_size=40))
    def garbage(self, addr, data):
        before = self.core.users
        out = self._receive(data, addr)
        # garbage may happen to be a valid request; if not, it changes nothing
        if not any(isinstance(a, SendToGroup) for a in out):
            assert self.core.users == before
        else:
            self._resync()

    def _resync(self) -> None:
        """Garbage that parsed as a real request: adopt the core's view for that step."""
        self.by_addr = {
            a: u for a in ADDRESSES if (u := self.core.user_at(a)) is not None
        }  # fmt: skip
        self.order = list(self.core.users)

    @invariant()
    def users_match_the_model(self):
        assert list(self.core.users) == self.order
        assert sorted(self.order) == sorted(self.by_addr.values())
        assert len({canonical_name(u) for u in self.order}) == len(self.order)  # unique looks
        for addr in ADDRESSES:
            assert self.core.user_at(addr) == self.by_addr.get(addr)


ServerModel.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip
TestServerModel = ServerModel.TestCase
