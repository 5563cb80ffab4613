"""The server's protocol logic, with no sockets: datagrams in, actions out.

In the style of h11 and aioquic, ``ServerCore.receive(data, addr, now)`` takes
one datagram with its source address and the current time and returns what to
do: datagrams to send (to the group or to one address) and records to log.
The socket loop around it (server_app) makes no protocol decision of its own,
so everything here is tested without a network and without sleeping.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple, Union, assert_never

from .errors import LocalProtocolError, RemoteProtocolError
from .federation import (
    ClaimAnswered,
    ClaimName,
    ClaimOutcome,
    EventKind,
    FederationConfig,
    FederationInput,
    FederationNotice,
    LinkChanged,
    NameClaim,
    Publish,
    ReleaseNames,
    RemoteEvent,
    RemoteSites,
    SiteEvent,
    SiteHeard,
    name_key,
)
from .limits import MAX_DATAGRAM_BYTES
from .names import canonical_name
from .ratelimit import RateLimit, RateLimiter, TokenBucket
from .reasons import Reason
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

Address = tuple[str, int]


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


class SendToGroup(NamedTuple):
    """Multicast ``data`` to the chat group."""

    data: bytes


class SendToAddress(NamedTuple):
    """Send ``data`` by unicast to one client."""

    data: bytes
    addr: Address


class RequestArrived(NamedTuple):
    """An accepted request, for the spec's log line.

    ``text`` is the chat text for ``msg``; ``takeover_from`` is the old address
    when a login from the same host took a name over from a stale session.
    """

    kind: str  # "login" | "msg" | "list" | "exit"
    user: str
    addr: Address
    text: str | None = None
    takeover_from: Address | None = None


class RequestRejected(NamedTuple):
    """A datagram that was not acted on, with a stable reason code."""

    reason: Reason
    addr: Address
    detail: str = ""
    user: str | None = None  # the logged-in user at that address, if any


class RejectionsSummarised(NamedTuple):
    """Rejections not logged one by one in the window [since, until)."""

    counts: tuple[tuple[Reason, int], ...]  # (reason, count), most frequent first
    sources: int  # distinct source addresses among them
    since: float
    until: float

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)


ServerAction = Union[
    SendToGroup,
    SendToAddress,
    RequestArrived,
    RequestRejected,
    RejectionsSummarised,
    # federation (only with a FederationConfig)
    Publish,
    ClaimName,
    ReleaseNames,
    FederationNotice,
]

_STRANGER = Session("", ("", 0))  # stands for every address not logged in; never changes state
# What the login rules say to a new address asking for a name nobody holds; the login
# hot path (ServerCore._join_plain) takes that row as it is, and only while it says JOIN.
_NEW_NAME_JOINS = LOGIN_RULES[SessionState.NEW, NameHolder.NOBODY] is LoginOutcome.JOIN


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

    def __init__(
        self, config: ServerConfig | None = None, federation: FederationConfig | None = None
    ) -> None:
        self.config = config or ServerConfig()
        self.federation = federation
        self._sites = _Federated(federation) if federation is not None else None
        self._by_addr: dict[Address, Session] = {}
        self._by_name: dict[str, Session] = {}  # canonical_name(user) -> session
        self._per_host: Counter[str] = Counter()  # sessions per source IP
        self._list_budget: dict[str, TokenBucket] = {}  # source IP -> bytes of list replies
        # The encoded list replies and their size, until a login or exit changes the
        # roster: a refused request (and every request between changes) encodes nothing.
        self._list_replies: tuple[list[bytes], int] | None = None
        self._limiter = RateLimiter(self.config.rate_limit) if self.config.rate_limit else None
        self._rejection_log = _RejectionLog(self.config.log_interval, self.config.log_burst)
        self.received = 0  # datagrams handed to receive()
        self.relayed = 0  # chat lines sent to the group
        self.rejections: Counter[Reason] = Counter()  # reason -> datagrams not acted on

    # --- queries ------------------------------------------------------------

    @property
    def users(self) -> tuple[str, ...]:
        """Names in the chat: this site's in login order, then other sites' users."""
        local = tuple(session.user for session in self._by_name.values())
        return local if self._sites is None else local + tuple(self._sites.remote.users())

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
        if self._limiter is not None and not self._limiter.allow(addr, now):
            self._reject(out, now, Reason.RATE_LIMITED, addr)
            return out
        session = self._by_addr.get(addr)
        if (
            self._relay_plain(session, data, out)
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
        out: list[ServerAction] = [
            SendToGroup(Bye(session.user).encode()) for session in self._by_name.values()
        ]
        if self._sites is not None:
            out.append(self._sites.release_held(s.user for s in self._by_name.values()))
            out += [self._sites.publish(EventKind.BYE, s.user) for s in self._by_name.values()]
        self._by_addr.clear()
        self._by_name.clear()
        self._per_host.clear()
        self._list_budget.clear()
        self._list_replies = None
        return out

    def handle_timer(self, now: float) -> list[ServerAction]:
        """Emit what is due at ``now``: a closed window's rejection summary, sites given up."""
        out: list[ServerAction] = []
        self._rejection_log.roll(now, out)
        if self._sites is not None and self._sites.expire(now, out):
            self._list_replies = None
        return out

    def next_deadline(self) -> float | None:
        """When ``handle_timer`` next has something to do; None if never."""
        due = self._rejection_log.deadline()
        if self._sites is not None:
            expiry = self._sites.next_expiry()
            if expiry is not None and (due is None or expiry < due):
                due = expiry
        return due

    def federated(self, item: FederationInput, now: float) -> list[ServerAction]:
        """Handle what the broker's side reports: another site's event, a heartbeat,
        the answer to a name claim, the link going up or down."""
        out: list[ServerAction] = []
        sites = self._sites
        if sites is None:
            raise LocalProtocolError(Reason.FEDERATION_EVENT, "this server is not federated")
        if isinstance(item, RemoteEvent):
            if not sites.apply(item.event, self._by_name, now, out):
                return out
            if item.event.kind is EventKind.MSG:
                return out
        elif isinstance(item, SiteHeard):
            sites.heard(item, now, out)
        elif isinstance(item, ClaimAnswered):
            self._claim_answered(item, now, out)
        elif isinstance(item, LinkChanged):
            sites.link_changed(item, self._by_name, now, out)
        else:
            assert_never(item)
        self._list_replies = None
        return out

    def _claim_answered(self, answer: ClaimAnswered, now: float, out: list[ServerAction]) -> None:
        sites = self._sites
        assert sites is not None
        user, addr = answer.user, answer.addr
        canonical = canonical_name(user)
        session = self._by_name.get(canonical)
        if answer.reassert:
            if answer.outcome is ClaimOutcome.HELD and session is not None:
                site = answer.holder.site if answer.holder else "another site"
                self._end_session(session)
                out.append(SendToGroup(Bye(session.user).encode()))
                out.append(sites.publish(EventKind.BYE, session.user))
                out.append(
                    FederationNotice(
                        f"{user!r} at {session.addr!r} ended: the name was taken at site {site} "
                        "while this site was cut off"
                    )
                )
            return
        if not sites.claim_settled(user, addr):
            return  # not the claim that is out for this name (a stale answer)
        # Held, or shown from another site meanwhile (a site that decided alone while
        # cut off): never two users under one name on this LAN.
        remote = sites.remote.holder(canonical)
        if answer.outcome is ClaimOutcome.HELD or remote is not None:
            site = remote or (answer.holder.site if answer.holder else "another site")
            detail = f"{user!r} is in the chat at site {site}"
            self._reject(out, now, Reason.NAME_TAKEN, addr, detail)
            if answer.outcome is ClaimOutcome.GRANTED:
                out.append(sites.release(user))
            return
        if session is not None or addr in self._by_addr or not self._room_for(addr, now, out):
            if session is not None or addr in self._by_addr:
                self._reject(out, now, Reason.ALREADY_LOGGED_IN, addr, f"{user!r} claimed twice")
            if answer.outcome is ClaimOutcome.GRANTED:
                out.append(sites.release(user))
            return
        self._join(user, addr, canonical, out)

    # --- the four requests --------------------------------------------------

    def _login(self, name: str, addr: Address, now: float, out: list[ServerAction]) -> None:
        current = self._by_addr.get(addr, _STRANGER)
        canonical = canonical_name(name)
        holder = self._by_name.get(canonical)
        rule = LOGIN_RULES[current.state, name_holder(addr, name, holder)]
        takeover_from = None
        match rule:
            case Reason():
                self._reject(out, now, rule, addr, self._login_refusal(rule, name, current, holder))
                return
            case LoginOutcome.JOIN:
                if not self._room_for(addr, now, out):
                    return
                if self._sites is not None and not self._sites.may_join(
                    name, canonical, addr, now, out, self._reject
                ):
                    return  # refused, or the answer to its claim decides
                self._join(name, addr, canonical, out)
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

    def _join(self, name: str, addr: Address, canonical: str, out: list[ServerAction]) -> None:
        """A new session, welcomed (and announced to the other sites)."""
        session = Session(name, addr, ChatRelay.attributed_prefix(name))
        _advance(session, SessionEvent.LOGIN)
        self._by_name[canonical] = session
        self._list_replies = None
        self._by_addr[addr] = session
        self._per_host[addr[0]] += 1
        out.append(RequestArrived("login", name, addr))
        out.append(SendToGroup(Welcome(name).encode()))
        if self._sites is not None:
            out.append(self._sites.publish(EventKind.WELCOME, name))

    @staticmethod
    def _login_refusal(reason: Reason, name: str, current: Session, holder: Session | None) -> str:
        """The detail of a refused login, for the log."""
        if reason is Reason.ALREADY_LOGGED_IN:
            return f"as {current.user!r}; exit first"
        if holder is not None and holder.user != name:
            return f"{name!r} looks like {holder.user!r}, who is in the chat"
        return f"{name!r} is in use from another host"

    def _relay_plain(self, session: Session, data: bytes, out: list[ServerAction]) -> bool:
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
        self.relayed += 1
        out.append(RequestArrived("msg", session.user, session.addr, text))
        out.append(SendToGroup(session.relay_prefix + data[4:]))
        if self._sites is not None:
            out.append(self._sites.publish(EventKind.MSG, session.user, text))
        return True

    def _join_plain(self, data: bytes, addr: Address, now: float, out: list[ServerAction]) -> bool:
        """The login hot path: a plain ``login,<name>`` (``plain_login_name``) from an
        address not in the chat, for a name nobody holds, on a server that decides
        alone (no federation): the login rules' (NEW, NOBODY) row, without parsing the
        datagram or looking the rules up.  Exactly what ``parse_client`` + ``_login``
        would do (a test holds them equal).  False: not that case; the full path decides.
        """
        if not _NEW_NAME_JOINS or self._sites is not None:
            return False
        name = plain_login_name(data)
        if name is None:
            return False
        canonical = canonical_name(name)
        if canonical in self._by_name:
            return False  # taken, a take-over or a look-alike: the rules decide
        if self._room_for(addr, now, out):
            self._join(name, addr, canonical, out)
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
        self.relayed += 1
        out.append(RequestArrived("msg", session.user, addr, text))
        out.append(SendToGroup(data))
        if self._sites is not None:
            out.append(self._sites.publish(EventKind.MSG, session.user, text))

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
        if self._sites is not None:  # the name is free before the others hear the bye
            out.append(self._sites.release(session.user))
            out.append(self._sites.publish(EventKind.BYE, session.user))

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

    def _room_for(self, addr: Address, now: float, out: list[ServerAction]) -> bool:
        """Whether a new session from ``addr`` fits the caps (else the reason is logged)."""
        config = self.config
        if self._per_host[addr[0]] >= config.max_sessions_per_host:
            detail = f"{config.max_sessions_per_host} sessions from this host already"
            self._reject(out, now, Reason.HOST_SESSIONS_FULL, addr, detail)
            return False
        if len(self._by_name) >= config.max_sessions:
            self._reject(out, now, Reason.SERVER_FULL, addr, f"{config.max_sessions} sessions")
            return False
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


_Reject = Callable[[list[ServerAction], float, Reason, Address, str], None]


class _Federated:
    """The server's side of the federation: its own events, its claims, the other sites.

    Kept apart from ServerCore so that a server without ``--federation`` pays
    one ``is None`` per chat line and nothing else.
    """

    def __init__(self, config: FederationConfig) -> None:
        self.config = config
        self.remote = RemoteSites(config)
        self.link_up = False
        self.link_up_at = 0.0
        self._seq = 0
        self._claims: dict[str, tuple[str, Address]] = {}  # canonical -> (name, addr) asked

    def publish(
        self, kind: EventKind, user: str = "", text: str = "", users: tuple[str, ...] = ()
    ) -> Publish:
        self._seq += 1
        config = self.config
        return Publish(SiteEvent(config.site, config.epoch, self._seq, kind, user, text, users))

    def claim(self, user: str, addr: Address, reassert: bool = False) -> ClaimName:
        """Ask for ``user``'s name; a first claim may clear entries of sites given up."""
        config = self.config
        claim = NameClaim(user, config.site, config.epoch)
        stale = frozenset() if reassert else self.remote.lost()
        return ClaimName(user, addr, name_key(user), claim, reassert, stale)

    def release(self, user: str) -> ReleaseNames:
        return ReleaseNames(self.config.site, self.config.epoch, (name_key(user),))

    def release_held(self, users: Iterable[str]) -> ReleaseNames:
        """The names of ``users`` and of the claims still out, by key: a stopping site
        frees them without listing the bucket (a busy broker may not list it before
        the stop's deadline, and then every name stayed held after its bye)."""
        asked = (name for name, _ in self._claims.values())
        keys = sorted({name_key(user) for user in itertools.chain(users, asked)})
        return ReleaseNames(self.config.site, self.config.epoch, tuple(keys))

    def may_join(
        self,
        name: str,
        canonical: str,
        addr: Address,
        now: float,
        out: list[ServerAction],
        reject: _Reject,
    ) -> bool:
        """Whether a local login may join now; else it was refused or its claim is out.

        Connected, a login waits for its claim (an atomic create at the broker);
        cut off, the site decides alone and asserts the name when the link is back.
        """
        holder = self.remote.holder(canonical)
        if holder is not None:
            reject(out, now, Reason.NAME_TAKEN, addr, f"{name!r} is in the chat at site {holder}")
            return False
        asked = self._claims.get(canonical)
        if asked is not None:
            if asked[1] != addr:
                detail = f"{name!r} is being claimed from {asked[1]!r}"
                reject(out, now, Reason.NAME_TAKEN, addr, detail)
            return False  # a retry while its claim is out: the answer welcomes it
        if not self.link_up:
            return True
        self._claims[canonical] = (name, addr)
        out.append(self.claim(name, addr))
        return False

    def claim_settled(self, user: str, addr: Address) -> bool:
        """Take the answered claim off the list; False if it was not the one out."""
        canonical = canonical_name(user)
        if self._claims.get(canonical) != (user, addr):
            return False
        del self._claims[canonical]
        return True

    def apply(
        self, event: SiteEvent, local: Container[str], now: float, out: list[ServerAction]
    ) -> bool:
        sends: list[bytes] = []
        applied = self.remote.apply(event, local, now, sends)
        self._carry_out(sends, out)
        return applied

    def _carry_out(self, sends: list[bytes], out: list[ServerAction]) -> None:
        """What RemoteSites decided: lines for the group, notes for the log."""
        out += [SendToGroup(data) for data in sends]
        out += [FederationNotice(note) for note in self.remote.take_notes()]

    def heard(self, heartbeat: SiteHeard, now: float, out: list[ServerAction]) -> None:
        sends: list[bytes] = []
        self.remote.heard(heartbeat.site, heartbeat.epoch, now, sends)
        self._carry_out(sends, out)

    def link_changed(
        self, change: LinkChanged, local: dict[str, Session], now: float, out: list[ServerAction]
    ) -> None:
        """Cut off: serve this LAN alone.  Back: reconcile, re-assert names, tell the roster."""
        if not change.up:
            if self.link_up:
                out.append(FederationNotice("cut off from the federation: serving this LAN alone"))
            self.link_up = False
            # Claims that are out will be answered UNAVAILABLE by the broker's side.
            return
        self.link_up, self.link_up_at = True, now
        sends: list[bytes] = []
        self.remote.reconcile_claims(change.claims, local, now, sends)
        self._carry_out(sends, out)
        config = self.config
        stale: dict[int, list[str]] = {}
        for claim in change.claims:
            if claim.site != config.site:
                continue
            session = local.get(canonical_name(claim.user))
            if claim.epoch != config.epoch or session is None or session.user != claim.user:
                stale.setdefault(claim.epoch, []).append(name_key(claim.user))
        out += [ReleaseNames(config.site, epoch, tuple(keys)) for epoch, keys in stale.items()]
        out += [self.claim(session.user, session.addr, reassert=True) for session in local.values()]
        users = tuple(session.user for session in local.values())
        out.append(self.publish(EventKind.ROSTER, users=users))
        remote = self.remote.sites()
        summary = ", ".join(f"{site} ({n})" for site, n in remote.items()) or "no other site yet"
        out.append(
            FederationNotice(f"connected to the federation as site {config.site}: {summary}")
        )

    def expire(self, now: float, out: list[ServerAction]) -> bool:
        if not self.link_up:
            return False
        sends: list[bytes] = []
        lost = self.remote.expire(now, self.link_up_at, sends)
        self._carry_out(sends, out)
        for site, epoch, users in lost:
            silent = f"site {site} silent for {self.config.site_timeout:g} s"
            left = f": its {users} user(s) left" if users else ": gone (it had no users)"
            out.append(FederationNotice(silent + left))
            out.append(ReleaseNames(site, epoch))
        return bool(lost)

    def next_expiry(self) -> float | None:
        if not self.link_up:
            return None
        expiry = self.remote.next_expiry()
        if expiry is None:
            return None
        return max(expiry, self.link_up_at + self.config.site_timeout)
