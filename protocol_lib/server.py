"""The server's protocol logic, with no sockets: datagrams in, actions out.

In the style of h11 and aioquic, ``ServerCore.receive(data, addr, now)`` takes
one datagram with its source address and the current time and returns what to
do: datagrams to send (to the group or to one address) and records to log.
The socket loop around it (server_app) makes no protocol decision of its own,
so everything here is tested without a network and without sleeping.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import assert_never

from .errors import LocalProtocolError, RemoteProtocolError
from .limits import MAX_DATAGRAM_BYTES
from .names import canonical_name
from .ratelimit import RateLimit, RateLimiter, TokenBucket
from .reasons import Reason
from .server_events import (
    Address,
    HostSweeping,
    RejectionsSummarised,
    RequestArrived,
    RequestRejected,
    SendToAddress,
    SendToGroup,
    ServerAction,
    SessionEvicted,
)
from .session import (
    LOGIN_RULES,
    LoginOutcome,
    NameHolder,
    Session,
    SessionEvent,
    SessionState,
    fire,
    name_holder,
)
from .wire import (
    Bye,
    ChatMessage,
    ChatRelay,
    ExitRequest,
    ListRequest,
    LoginRequest,
    UserList,
    Welcome,
    parse_client,
    plain_chat_text,
    plain_login_name,
)


class ListReplyMode(StrEnum):
    """Where the answer to ``list,`` goes.

    The spec sends everything to the group, and 3 of 4 known clients read only
    the group, so that is the default; some servers answer by unicast, which
    keeps the roster private to the asker.
    """

    GROUP = "group"
    UNICAST = "unicast"
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """The operator's choices; the defaults are what the spec's peers expect."""

    list_reply: ListReplyMode = ListReplyMode.GROUP
    rate_limit: RateLimit | None = field(default_factory=RateLimit)  # None: no limit
    log_interval: float = 5.0  # seconds per rejection-log window
    log_burst: int = 10  # rejections logged one by one per window; the rest summarised
    # Caps: one host cannot fill the chat with sessions (a lab PC has one user; a
    # terminal server with many users on one host raises the first).
    max_sessions_per_host: int = 32
    max_sessions: int = 1000
    # Gateways (lanchat-web): one address that speaks for many people, each on a port of
    # its own; not held to max_sessions_per_host (the gateway limits its own users per
    # browser address), still counted in max_sessions.
    gateway_hosts: frozenset[str] = frozenset()
    # What list replies a host's requests may make the server send to the group, in
    # bytes: a burst that holds one reply to a full roster (1000 names of up to 32
    # characters: ~33 KB), then 8 KB a second.  Replies to a classroom-sized roster
    # (~1 KB) are never refused; a full one can be asked for once every ~4 s.
    list_budget: RateLimit = field(
        default_factory=lambda: RateLimit(burst=40_000.0, per_second=8_000.0)
    )


# --- actions ----------------------------------------------------------------
# Named tuples rather than frozen dataclasses: equally immutable and typed, but
# built three times faster, and two of them are made for every chat line.


_STRANGER = Session("", ("", 0))  # stands for every address not logged in; never changes state
# What the login rules say to a new address asking for a name nobody holds; the login
# hot path (ServerCore._join_plain) takes that row as it is, and only while it says JOIN.
_NEW_NAME_JOINS = LOGIN_RULES[SessionState.NEW, NameHolder.NOBODY] is LoginOutcome.JOIN


HOST_BURST = 4  # x a client's burst: what the ports of a host without a session share ...
HOST_RATE = 2  # ... and x its rate
SWEEP_PORTS = 64  # ports of one host without a session refused in a log window: a sweep
SWEEP_HOSTS = 4096  # hosts watched for sweeps at once (spoofed sources are many)


class _SweepWatch:
    """The ports of one host refused in the current window (a few, or SWEEP_PORTS)."""

    __slots__ = ("since", "ports")

    def __init__(self, since: float) -> None:
        self.since = since
        self.ports: set[int] = set()


def _advance(session: Session, event: SessionEvent) -> None:
    """Fire an event that the rules already allowed; a refusal here is a bug in the tables."""
    rejection = fire(session, event)
    if rejection is not None:
        raise RuntimeError(f"the session table refused what the login rules allowed: {rejection}")


class _RejectionLog:
    """Lets ``burst`` rejections a window through as lines, counts the rest."""

    __slots__ = ("interval", "burst", "window_start", "logged", "suppressed", "sources")

    def __init__(self, interval: float, burst: int) -> None:
        self.interval = interval
        self.burst = burst
        self.window_start: float | None = None
        self.logged = 0
        self.suppressed: Counter[Reason] = Counter()
        self.sources: set[Address] = set()

    def admit(self, reason: Reason, addr: Address, now: float, out: list[ServerAction]) -> bool:
        """True if this rejection gets a line of its own; else it is only counted.

        Under a flood most rejections are only counted, so the caller builds
        the RequestRejected (and looks up the user) only when admitted.
        """
        self.roll(now, out)
        if self.window_start is None:
            self.window_start = now
        if self.logged < self.burst:
            self.logged += 1
            return True
        self.suppressed[reason] += 1
        if len(self.sources) < 100_000:
            self.sources.add(addr)
        return False

    def roll(self, now: float, out: list[ServerAction]) -> None:
        """Close the window if it has ended, emitting its summary."""
        start = self.window_start
        if start is None or now < start + self.interval:
            return
        if self.suppressed:
            out.append(
                RejectionsSummarised(
                    tuple(self.suppressed.most_common()), len(self.sources), start, now
                )
            )
        self.window_start = None
        self.logged = 0
        self.suppressed = Counter()
        self.sources = set()

    def deadline(self) -> float | None:
        if self.window_start is None or not self.suppressed:
            return None
        return self.window_start + self.interval


class ServerCore:
    """All of the server's decisions; feed it datagrams, carry out its actions.

    Sessions are found by address (who sent this?) and by canonical name (is
    it taken, or does a new name only look different?); the name index keeps
    login order, which is the order of list replies.
    """

    def __init__(self, config: ServerConfig | None = None) -> None:
        self.config = config or ServerConfig()
        # Derived from which hooks a subclass fills in (federated_server.py), so the two
        # cannot disagree.  The login hot path (_join_plain) takes the login rules'
        # (NEW, NOBODY) row as it is only where nothing else decides whether a name may
        # join.  Welcomes and relayed lines go elsewhere (``_joined``, ``_said``) only
        # where those are filled in: asked per line and per login, an instance attribute
        # read, not a call (bench_instructions: calling them always cost 1-2%).
        kind = type(self)
        self._plain_joins = _NEW_NAME_JOINS and kind._may_join is ServerCore._may_join
        self._tells_others = (
            kind._said is not ServerCore._said or kind._joined is not ServerCore._joined
        )
        self._by_addr: dict[Address, Session] = {}
        self._by_name: dict[str, Session] = {}  # canonical_name(user) -> session
        self._per_host: Counter[str] = Counter()  # sessions per source IP
        self._list_budget: dict[str, TokenBucket] = {}  # source IP -> bytes of list replies
        # The encoded list replies and their size, until a login or exit changes the
        # roster: a refused request (and every request between changes) encodes nothing.
        self._list_replies: tuple[list[bytes], int] | None = None
        limit = self.config.rate_limit
        self._limiter = RateLimiter(limit) if limit else None
        # What the ports of one host without a session share: a class's logins behind one
        # address (a lab's NAT, the loopback of a demo) fit its burst; a sweep of spoofed
        # ports gets 2x one client's rate, hours for a host's 65,535 ports.
        self._host_limiter = (
            RateLimiter(RateLimit(limit.burst * HOST_BURST, limit.per_second * HOST_RATE))
            if limit
            else None
        )
        self._sweeps: dict[str, _SweepWatch] = {}  # host -> its ports refused in a window
        self._rejection_log = _RejectionLog(self.config.log_interval, self.config.log_burst)
        self.received = 0  # datagrams handed to receive()
        self.relayed = 0  # chat lines sent to the group
        self.rejections: Counter[Reason] = Counter()  # reason -> datagrams not acted on

    # --- queries ------------------------------------------------------------

    @property
    def most_sessions_from_one_host(self) -> int:
        """The largest number of sessions one IP address holds (the per-host cap's gauge)."""
        return max(self._per_host.values(), default=0)

    @property
    def users(self) -> tuple[str, ...]:
        """Names in the chat: this LAN's in login order (then any the server hears of)."""
        return tuple(session.user for session in self._by_name.values()) + self._others()

    def user_at(self, addr: Address) -> str | None:
        """The name logged in from ``addr``, if any."""
        session = self._by_addr.get(addr)
        return session.user if session is not None else None

    def address_of(self, user: str) -> Address | None:
        session = self._by_name.get(canonical_name(user))
        return session.addr if session is not None else None

    # --- events in ----------------------------------------------------------

    def receive(self, data: bytes, addr: Address, now: float) -> list[ServerAction]:
        """Handle one datagram from ``addr`` received at time ``now``."""
        out: list[ServerAction] = []
        self.received += 1
        session = self._by_addr.get(addr)
        if self._limiter is not None and self._over_budget(session, addr, now, out):
            return out
        if (
            self._relay_plain(session, data, now, out)
            if session is not None
            else self._join_plain(data, addr, now, out)
        ):
            if self._rejection_log.window_start is not None:
                self._rejection_log.roll(now, out)
            return out
        try:
            message = parse_client(data)
        except RemoteProtocolError as exc:
            self._reject(out, now, exc.reason, addr, exc.detail)
            return out
        if type(message) is ChatMessage:
            self._chat(message.text, addr, now, out)
        elif type(message) is LoginRequest:
            self._login(message.user, addr, now, out)
        elif type(message) is ListRequest:
            self._list(addr, now, out)
        else:
            assert type(message) is ExitRequest
            self._exit(addr, now, out)
        if self._rejection_log.window_start is not None:
            self._rejection_log.roll(now, out)
        return out

    def close(self) -> list[ServerAction]:
        """The server is stopping: a ``bye`` for every user, so every client knows.

        Without it, clients stay "in chat" with a server that is gone until they
        send something.  The sessions are forgotten.
        """
        users = [session.user for session in self._by_name.values()]
        out: list[ServerAction] = [SendToGroup(Bye(user).encode()) for user in users]
        self._closing(users, out)
        self._by_addr.clear()
        self._by_name.clear()
        self._per_host.clear()
        self._list_budget.clear()
        self._list_replies = None
        return out

    def handle_timer(self, now: float) -> list[ServerAction]:
        """Emit what is due at ``now``: a closed window's rejection summary."""
        out: list[ServerAction] = []
        self._rejection_log.roll(now, out)
        return out

    def next_deadline(self) -> float | None:
        """When ``handle_timer`` next has something to do; None if never."""
        return self._rejection_log.deadline()

    # --- what a server that is not alone adds (federated_server.py) -----------

    def _may_join(self, name: str, canonical: str, addr: Address, now: float,
                  out: list[ServerAction]) -> bool:  # fmt: skip
        """Whether a login the rules let join may join now (alone: always)."""
        return True

    def _joined(self, name: str, out: list[ServerAction]) -> None:
        """A new session was welcomed (called where ``_tells_others``)."""

    def _said(self, user: str, text: str, out: list[ServerAction]) -> None:
        """A chat line was relayed (called where ``_tells_others``)."""

    def _left(self, user: str, out: list[ServerAction]) -> None:
        """A session ended on its user's request."""

    def _closing(self, users: list[str], out: list[ServerAction]) -> None:
        """The server is stopping; these users get their byes."""

    def _others(self) -> tuple[str, ...]:
        """Users in the chat who are not on this LAN (alone: none)."""
        return ()

    # --- the four requests --------------------------------------------------

    def _login(self, name: str, addr: Address, now: float, out: list[ServerAction]) -> None:
        current = self._by_addr.get(addr, _STRANGER)
        canonical = canonical_name(name)
        holder = self._by_name.get(canonical)
        held_by = name_holder(addr, name, holder)
        if held_by is NameHolder.SAME_HOST and addr[0] in self.config.gateway_hosts:
            # Through a gateway every page is a person of its own: another of its ports is
            # someone else (a page took over a classmate's name, or a window's on the
            # gateway's host), never the same client restarted.
            held_by = NameHolder.OTHER_HOST
        rule = LOGIN_RULES[current.state, held_by]
        takeover_from = None
        match rule:
            case Reason():
                self._reject(out, now, rule, addr, self._login_refusal(rule, name, current, holder))
                return
            case LoginOutcome.JOIN:
                if not self._room_for(addr, now, out):
                    return
                if not self._may_join(name, canonical, addr, now, out):
                    return  # refused, or something later decides (federated: a claim)
                self._join(name, addr, canonical, now, out)
                return
            case LoginOutcome.TAKE_OVER:
                assert holder is not None
                takeover_from = holder.addr
                del self._by_addr[holder.addr]
                holder.addr = addr
                self._by_addr[addr] = holder
                _advance(holder, SessionEvent.LOGIN)
            case LoginOutcome.WELCOME_AGAIN:
                _advance(current, SessionEvent.LOGIN)
            case _:
                assert_never(rule)
        out.append(RequestArrived("login", name, addr, takeover_from=takeover_from))
        out.append(SendToGroup(Welcome(name).encode()))

    def _join(
        self, name: str, addr: Address, canonical: str, now: float, out: list[ServerAction]
    ) -> None:
        """A new session, welcomed."""
        session = Session(name, addr, ChatRelay.attributed_prefix(name))
        session.spoke = now
        _advance(session, SessionEvent.LOGIN)
        self._by_name[canonical] = session
        self._list_replies = None
        self._by_addr[addr] = session
        self._per_host[addr[0]] += 1
        out.append(RequestArrived("login", name, addr))
        out.append(SendToGroup(Welcome(name).encode()))
        if self._tells_others:
            self._joined(name, out)

    @staticmethod
    def _login_refusal(reason: Reason, name: str, current: Session, holder: Session | None) -> str:
        """The detail of a refused login, for the log."""
        if reason is Reason.ALREADY_LOGGED_IN:
            return f"as {current.user!r}; exit first"
        if holder is not None and holder.user != name:
            return f"{name!r} looks like {holder.user!r}, who is in the chat"
        return f"{name!r} is in use from another host"

    def _relay_plain(
        self, session: Session, data: bytes, now: float, out: list[ServerAction]
    ) -> bool:
        """The hot path: a plain chat line from a logged-in address, relayed in one step.

        Exactly what ``parse_client`` + ``_chat`` would do for such a line (a
        test holds them equal), without decoding twice or encoding at all: the
        relay is the session's cached ``msg,<user>: `` plus the text's bytes.
        False: not that case; the full path decides.
        """
        text = plain_chat_text(data)
        if text is None or len(session.relay_prefix) + len(data) - 4 > MAX_DATAGRAM_BYTES:
            return False
        _advance(session, SessionEvent.MSG)
        session.spoke = now
        self.relayed += 1
        out.append(RequestArrived("msg", session.user, session.addr, text))
        out.append(SendToGroup(session.relay_prefix + data[4:]))
        if self._tells_others:
            self._said(session.user, text, out)
        return True

    def _join_plain(self, data: bytes, addr: Address, now: float, out: list[ServerAction]) -> bool:
        """The login hot path: a plain ``login,<name>`` (``plain_login_name``) from an
        address not in the chat, for a name nobody holds, on a server that decides
        alone (``_plain_joins``): the login rules' (NEW, NOBODY) row, without parsing the
        datagram or looking the rules up.  Exactly what ``parse_client`` + ``_login``
        would do (a test holds them equal).  False: not that case; the full path decides.
        """
        if not self._plain_joins:
            return False
        name = plain_login_name(data)
        if name is None:
            return False
        canonical = canonical_name(name)
        if canonical in self._by_name:
            return False  # taken, a take-over or a look-alike: the rules decide
        if self._room_for(addr, now, out):
            self._join(name, addr, canonical, now, out)
        return True

    def _chat(self, text: str, addr: Address, now: float, out: list[ServerAction]) -> None:
        session = self._active(addr, SessionEvent.MSG, now, out)
        if session is None:
            return
        try:
            data = ChatRelay.attributed(session.user, text).encode()
        except LocalProtocolError:
            self._reject(
                out, now, Reason.RELAY_TOO_LONG, addr, f"{len(text.encode())} bytes of text"
            )
            return
        session.spoke = now
        self.relayed += 1
        out.append(RequestArrived("msg", session.user, addr, text))
        out.append(SendToGroup(data))
        if self._tells_others:
            self._said(session.user, text, out)

    def _list(self, addr: Address, now: float, out: list[ServerAction]) -> None:
        session = self._active(addr, SessionEvent.LIST, now, out)
        if session is None:
            return
        if self._list_replies is None:
            encoded = [reply.encode() for reply in UserList.chunks(self.users)]
            self._list_replies = (encoded, sum(len(data) for data in encoded))
        replies, size = self._list_replies
        budget = self._list_budget.get(addr[0])
        if budget is None:
            budget = self._list_budget[addr[0]] = TokenBucket(self.config.list_budget)
        # A reply larger than the whole burst (an operator raised max_sessions) is
        # granted when the bucket is full, and costs all of it.
        if not budget.take(now, min(size, budget.limit.burst)):
            self._reject(out, now, Reason.LIST_BUDGET, addr, f"a reply of {size} bytes must wait")
            return
        out.append(RequestArrived("list", session.user, addr))
        mode = self.config.list_reply
        for data in replies:
            if mode is not ListReplyMode.UNICAST:
                out.append(SendToGroup(data))
            if mode is not ListReplyMode.GROUP:
                out.append(SendToAddress(data, addr))

    def _exit(self, addr: Address, now: float, out: list[ServerAction]) -> None:
        session = self._active(addr, SessionEvent.EXIT, now, out)
        if session is None:
            return
        self._end_session(session)
        out.append(RequestArrived("exit", session.user, addr))
        out.append(SendToGroup(Bye(session.user).encode()))
        self._left(session.user, out)

    # --- helpers ------------------------------------------------------------

    def _end_session(self, session: Session) -> None:
        """Forget a session (its name, its address, its host's share)."""
        del self._by_addr[session.addr]
        del self._by_name[canonical_name(session.user)]
        self._list_replies = None
        host = session.addr[0]
        self._per_host[host] -= 1
        if not self._per_host[host]:  # memory follows the sessions: nothing left per host
            del self._per_host[host]
            self._list_budget.pop(host, None)

    def _over_budget(
        self, session: Session | None, addr: Address, now: float, out: list[ServerAction]
    ) -> bool:
        """Whether the datagram is over its rate limit (then refused and logged).

        A session has a budget of its own; every port of a host that has none shares the
        host's (a gateway's pages excepted: each is a port of its own).  Spoofed datagrams
        swept over the ports of a session's host, to hit its port, then take hours, not a
        quarter of a second."""
        assert self._limiter is not None and self._host_limiter is not None
        if session is not None or addr[0] in self.config.gateway_hosts:
            if self._limiter.allow(addr, now):
                return False
            self._reject(out, now, Reason.RATE_LIMITED, addr)
            return True
        if self._host_limiter.allow(addr[0], now):
            return False
        self._reject(out, now, Reason.HOST_BUDGET, addr)
        self._watch_sweep(addr, now, out)
        return True

    def _watch_sweep(self, addr: Address, now: float, out: list[ServerAction]) -> None:
        """Count the ports of ``addr``'s host refused in this window; at SWEEP_PORTS, say
        once that a sweep looks under way."""
        host, interval = addr[0], self.config.log_interval
        watch = self._sweeps.get(host)
        if watch is None or now >= watch.since + interval:
            if len(self._sweeps) >= SWEEP_HOSTS:  # bounded: forget the windows that ended
                self._sweeps = {h: w for h, w in self._sweeps.items() if now < w.since + interval}
                if len(self._sweeps) >= SWEEP_HOSTS:
                    return
            watch = self._sweeps[host] = _SweepWatch(now)
        ports = watch.ports
        if len(ports) < SWEEP_PORTS:
            ports.add(addr[1])
            if len(ports) == SWEEP_PORTS:
                out.append(HostSweeping(host, SWEEP_PORTS, watch.since))

    def _room_for(self, addr: Address, now: float, out: list[ServerAction]) -> bool:
        """Whether a new session from ``addr`` fits the caps (else the reason is logged)."""
        config = self.config
        host = addr[0]
        if self._per_host[host] >= config.max_sessions_per_host and (
            host not in config.gateway_hosts
        ):
            detail = f"{config.max_sessions_per_host} sessions from this host already"
            self._reject(out, now, Reason.HOST_SESSIONS_FULL, addr, detail)
            return False
        if len(self._by_name) >= config.max_sessions and not self._make_room(now, out):
            self._reject(out, now, Reason.SERVER_FULL, addr, f"{config.max_sessions} sessions")
            return False
        return True

    def _make_room(self, now: float, out: list[ServerAction]) -> bool:
        """The chat is full: end the session that has been silent the longest on the host
        that holds the most (more than one; a gateway's pages are people, each its own).
        1,000 phantom logins from 200 addresses once kept every newcomer out for the rest
        of the lesson; a person on a host of their own is never the one ended."""
        gateways = self.config.gateway_hosts
        held, host = max(
            ((n, h) for h, n in self._per_host.items() if h not in gateways), default=(0, "")
        )
        if held <= 1:
            return False  # truly full: one session a host
        victim = min(
            (s for s in self._by_name.values() if s.addr[0] == host), key=lambda s: s.spoke
        )
        _advance(victim, SessionEvent.EXIT)
        self._end_session(victim)
        out.append(SessionEvicted(victim.user, victim.addr, held))
        out.append(SendToGroup(Bye(victim.user).encode()))
        self._left(victim.user, out)
        return True

    def _active(
        self, addr: Address, event: SessionEvent, now: float, out: list[ServerAction]
    ) -> Session | None:
        """The session at ``addr`` if the machine lets it do ``event``."""
        session = self._by_addr.get(addr, _STRANGER)
        rejection = fire(session, event)
        if rejection is not None:
            self._reject(out, now, rejection.reason, addr, f"{event.value} before login")
            return None
        return session

    def _reject(
        self, out: list[ServerAction], now: float, reason: Reason, addr: Address, detail: str = ""
    ) -> None:
        self.rejections[reason] += 1
        if self._rejection_log.admit(reason, addr, now, out):
            out.append(RequestRejected(reason, addr, detail, self.user_at(addr)))
