"""The client's protocol logic, with no sockets and no GUI: lines in, events out.

``ClientCore`` turns what a person (``command``) or a tool (``login``, ``say``,
``request_list``, ``leave``) asks for into datagrams for the server, and what
the group delivers (``receive``) into display events.  Time is passed in, so
every timeout is testable without sleeping; the caller asks
``next_deadline()`` and calls ``handle_timer(now)`` then.

What it guarantees a user:
- Nothing typed is lost to the server's rate limit: chat lines go out at a
  pace a little under the server's limit (``ClientConfig.send_limit``); lines
  typed faster wait in a queue (shown as queued) and leave from ``handle_timer``.
- A line not relayed says only what is known.  If the server relays other lines
  but not ours, it has most likely forgotten us (it was restarted): the client
  logs in again by itself and sends the line again once the server welcomes it
  (a line refused a second time is marked "not relayed").  If nothing at all has
  come from the chat since the line went out, nobody here can know whether it was
  relayed (a firewall on this side drops the group, and the others did get it;
  or the server is down): the line is marked "not confirmed", never "not
  relayed", the chat is said to be silent (``ChatSilence``: the window runs its
  doctor), and the client asks to log in again; if the server welcomes it, the
  line is sent again.  Anything heard from the server ends the silence.
- Nothing is credited to the wrong person.  The client learns the server's
  relay style from the echo of its own lines: plain ``msg,<text>`` (the
  spec's) or attributed ``msg,<user>: <text>``.  On a plain relay it never
  reads a sender out of the text; until the style is known it credits nobody
  (the line is shown whole, as the spec's clients show it); on an attributed
  relay it credits a sender only when that name is in the user list.  Its own
  line is confirmed only by the echo that server would send for it.  A style
  known beforehand (``ClientConfig.relay_style``: a discovery record, the
  launcher that started our server, an earlier visit) credits senders from the
  first line; it is presumed, never trusted against evidence: our own echo in
  either form confirms or corrects it, and so does an unnamed line.
- Only the server changes the client's state: with ``server_sources`` set,
  a datagram from any other address (a forged ``bye,<our name>``) is shown
  as such and changes nothing.  Once the server has welcomed our own login, only
  the port that welcome came from (the server's sending socket) and the server's
  own port (unicast list replies) speak for it: another program on the server's
  host, or a second server there, is shown, not believed.  The port is learned
  again at each welcome of a login of ours.  A restarted server sends from a new
  port: when another port of the server's address talks, the client asks the
  server (``list,``); if its known port stays quiet, the chat is silent, the client
  logs in again, and the welcome that answers is believed from its new port.  A
  forger cannot make the real server quiet, so it is never believed.
- A ``welcome`` for our name that we did not ask for means another client
  took the name over: we say so and leave the chat (``/login`` takes it back).

The typed-line grammar: the spec's raw protocol lines (``login,bob``,
``msg,hi, all``, ``list,``, ``exit,``, which are sent even before a welcome,
with a warning); plain text, sent as ``msg,<text>`` once logged in (several
lines pasted at once are one message per line); slash commands ``/login NAME``
(or ``/login`` for the last name), ``/list``, ``/quit``, ``/help``; ``//text``
sends ``/text``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from .client_events import (
    ChatSilence,
    ClientEvent,
    ClientState,
    DeliveryFailed,
    DeliveryUnknown,
    IncomingMessage,
    LocalError,
    MessageDelivered,
    MessageSent,
    MessageStatus,
    NameTakenOver,
    NotFromServer,
    Notice,
    OutgoingMessage,
    RelayStyle,
    RelayStyleLearned,
    RosterChanged,
    SendDatagram,
    SessionEnded,
    StateChanged,
    UnrecognisedLine,
    UserJoined,
    UserLeft,
    UserListShown,
    error_event,
)
from .errors import LocalProtocolError, RemoteProtocolError
from .limits import MAX_DATAGRAM_BYTES
from .names import clean_name, wire_name_problem
from .ratelimit import RateLimit, TokenBucket, client_pace
from .reasons import Reason
from .wire import (
    LIST_CHUNK_FULL_BYTES,
    Bye,
    ChatMessage,
    ChatRelay,
    ExitRequest,
    ListRequest,
    LoginRequest,
    UserList,
    Welcome,
    parse_server,
    plain_chat_text,
)

Source = tuple[str, int] | str | None
"""Where a datagram came from: (address, port) as ``recvfrom`` gives it; an address alone
(a tool that keeps only that: no port is checked); None (cannot be known)."""


UNSURE_KEPT = 200  # datagrams from an unknown port of the server's, kept while finding out
SILENT_RETRY_FIRST = 5.0  # seconds: a silent chat is asked again (our login) after this ...
SILENT_RETRY_MAX = 60.0  # ... and then less and less often, down to once a minute
ENDED_WITHIN = 0.5  # seconds after our unasked bye in which the others' byes say "everyone"


def _not_from_server(data: bytes, address: str, port: int | None = None) -> NotFromServer:
    """``data`` shown as sent by ``address`` (``port``: of the server's address, not its
    socket), believed in nothing."""
    return NotFromServer(address, data.decode("utf-8", errors="replace").strip(), port)


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Timeouts and limits of the client; UDP loses datagrams, so nothing waits forever."""

    login_timeout: float = 1.0  # seconds to wait for our welcome per attempt
    login_attempts: int = 3
    delivery_timeout: float = 5.0  # seconds until an unrelayed message counts as lost
    list_after_login: bool = True  # ask for the roster once our welcome arrives
    list_continuation: float = 1.0  # seconds in which a full list reply may be continued
    # The pace of chat lines; the default keeps under our server's default limit.
    # None sends at once (a server without a limit).
    send_limit: RateLimit | None = field(default_factory=lambda: client_pace(RateLimit()))
    max_queued: int = 1000  # lines waiting for the pace; more are refused, never dropped
    # Source IPs that speak for the server; a datagram from any other changes
    # nothing.  Empty: every source is believed (a tool that has no addresses).
    server_sources: frozenset[str] = frozenset()
    server_port: int = 0  # the server's own port: its unicast replies come from it
    list_shown_within: float = 5.0  # seconds in which a /list reply is written to the view
    # How the server relays, if known before it is heard: from a discovery record, from the
    # launcher that started our own server, or remembered from an earlier visit.  Presumed
    # (others' lines are credited by it from the first one) until the echo of our own
    # first line confirms it; anything that contradicts it wins.
    relay_style: RelayStyle = RelayStyle.UNKNOWN


class Move(StrEnum):
    """What moves the client from one state to another (``MOVES``)."""

    LOGIN = "login"  # login(): a name asked for
    WELCOMED = "welcomed"  # our own welcome came
    LEFT = "left"  # we left, gave up waiting, were put out, or the server ended it


MOVES: dict[tuple[ClientState, Move], ClientState] = {
    # state now               what happened   state next
    (ClientState.LOGGED_OUT, Move.LOGIN): ClientState.LOGGING_IN,
    (ClientState.LOGGING_IN, Move.LOGIN): ClientState.LOGGING_IN,  # another name, or again
    (ClientState.IN_CHAT, Move.LOGIN): ClientState.LOGGING_IN,  # our own name again
    (ClientState.LOGGING_IN, Move.WELCOMED): ClientState.IN_CHAT,
    (ClientState.LOGGING_IN, Move.LEFT): ClientState.LOGGED_OUT,  # exit, or no welcome came
    (ClientState.IN_CHAT, Move.LEFT): ClientState.LOGGED_OUT,  # exit, taken over, ended
}
"""The client's states and what moves them, all of it: ``ClientCore._move`` changes the
state through this table alone (a move missing here is a bug, and raises KeyError)."""


@dataclass(slots=True)
class _Pending:
    message_id: int
    text: str
    sent_at: float
    user: str  # the name it was sent under: what an attributed echo starts with
    resent: bool = False  # sent again after a login of ours: not again
    unconfirmed: bool = False  # marked so (DeliveryUnknown): held for a welcome back


class ClientCore:
    """All of a chat client's decisions, for a GUI or any other tool."""

    def __init__(self, config: ClientConfig | None = None) -> None:
        self.config = config or ClientConfig()
        self.state = ClientState.LOGGED_OUT
        self.user: str | None = None  # our name: in chat, or being tried
        self.last_user: str | None = None  # for a bare /login
        self.relay_style = self.config.relay_style
        self._style_confirmed = False  # by our own echo, or by a line only a plain relay sends
        self._roster: dict[str, None] = {}  # ordered set: the server's order
        self._login_attempts = 0
        self._login_deadline: float | None = None
        self._own_welcome_until = float("-inf")  # welcomes of ours until then echo our retries
        # In the chat, our login sent again by ourselves (lines unanswered): until when its
        # welcome is awaited; the lines to send again when it comes.
        self._rejoin_deadline: float | None = None
        self._held: list[_Pending] = []
        self._silent_at: float | None = None  # when the chat was found silent (ChatSilence)
        self._rejoin_last = 0.0  # when our login was last sent again by ourselves
        self._silent_gap = SILENT_RETRY_FIRST  # then, silent: seconds until the next
        self._new_port_asked: float | None = None  # the silent spell a new port asked in
        # Our session ended unasked at this time: SessionEnded is said ENDED_WITHIN later,
        # when the byes a stopping server says to the others (in login order, ours among
        # them) have come too, so "everyone" does not depend on who joined last.
        self._ended_at: float | None = None
        # The ports the server's datagrams come from, learned from the welcome of our own
        # login (None: not yet; any port of the server's address is believed until then).
        self._server_ports: frozenset[int] | None = None
        self._port_check: tuple[float, float] | None = None  # (asked at, deadline)
        # Datagrams from another port of the server's address, while it is found out whose
        # they are: replayed if a welcome of ours teaches that port (a restarted server),
        # else shown as not from the server (a forger: the known socket still answers).
        self._unsure: list[tuple[bytes, tuple[str, int]]] = []
        self._replay: list[tuple[bytes, tuple[str, int]]] = []
        self._next_id = 1
        self._pace = TokenBucket(self.config.send_limit) if self.config.send_limit else None
        self._queue: deque[tuple[int, str]] = deque()  # (id, text) waiting for the pace
        self._resent: set[int] = set()  # ids in the queue that are sent for the second time
        self._leave_after_queue = False
        self._pending: deque[_Pending] = deque()
        self._last_heard: float | None = None  # last datagram from the server
        self._list_open_until: float | None = None
        self._list_shown_until: float | None = None

    @property
    def roster(self) -> list[str]:
        """Names in the chat as far as we know, in the server's order."""
        return list(self._roster)

    def know_roster(self, users: Iterable[str]) -> None:
        """Take the user list from a tool that already follows the group.

        A gateway that brings many people in on one group listener knows who is in the
        chat; a new client of its starts with that list instead of asking the server
        (each ``list,`` makes the server send the whole roster to the group, and a
        hundred phones joining would make it send a hundred).  Welcomes, byes and list
        replies keep it current from then on, as for a list the client asked for.
        """
        self._roster = dict.fromkeys(users)

    def presume_relay_style(self, style: RelayStyle) -> None:
        """Take the server's relay style as another client of the same server learned it
        (a gateway's people share one server): presumed, as ``ClientConfig.relay_style``,
        so senders are named from the next line; our own echo still confirms or corrects
        it, and a style this client has confirmed is kept."""
        if not self._style_confirmed:
            self.relay_style = style

    @property
    def heard_from_server(self) -> bool:
        """Whether any datagram from the server has arrived (the doctor's first question)."""
        return self._last_heard is not None

    def heard_since(self, when: float) -> bool:
        """Whether a datagram from the server arrived at ``when`` or later: what was heard
        minutes ago says nothing about a firewall put up since."""
        return self._last_heard is not None and self._last_heard >= when

    @property
    def silent(self) -> bool:
        """Lines of ours or our login went unanswered and nothing has come from the server
        since (``ChatSilence``)."""
        return self._silent_at is not None

    @property
    def queued(self) -> int:
        """Lines of ours waiting for the pace."""
        return len(self._queue)

    # --- the API for tools ----------------------------------------------------

    def login(self, name: str, now: float) -> list[ClientEvent]:
        """Ask to enter the chat as ``name`` (blanks around it are forgiven)."""
        try:
            name = clean_name(name)
        except LocalProtocolError as exc:
            return [LocalError(exc.reason, exc.detail)]
        if self.state is ClientState.IN_CHAT and name != self.user:
            return [
                LocalError(
                    Reason.ALREADY_LOGGED_IN,
                    f"you are in the chat as {self.user}; type exit, (or /quit) first",
                )
            ]
        self.user = self.last_user = name
        self._move(Move.LOGIN)
        self._login_attempts = 1
        self._login_deadline = now + self.config.login_timeout
        return [StateChanged(self.state, name), self._send_now(LoginRequest(name).encode(), now)]

    def text_room(self) -> int:
        """How many bytes of text one chat line may hold now: the relay (``msg,<our
        name>: <text>``) must fit one datagram too, so the name counts."""
        return MAX_DATAGRAM_BYTES - len(f"msg,{self.user or ''}: ".encode())

    def say(self, text: str, now: float) -> list[ClientEvent]:
        """Send one chat line (its text is taken literally, commas and all)."""
        if self.state is not ClientState.IN_CHAT:
            hint = (
                "wait for the welcome"
                if self.state is ClientState.LOGGING_IN
                else "log in first: /login NAME"
            )
            return [LocalError(Reason.NOT_LOGGED_IN, f"not sent: {hint}")]
        text = text.strip()
        user = self.user or ""
        try:
            data = ChatMessage(text).encode()
            ChatRelay.attributed(user, text).encode()  # must fit relayed too
        except LocalProtocolError as exc:
            if exc.reason == Reason.TOO_LONG:
                room = self.text_room()
                return [
                    LocalError(
                        Reason.TOO_LONG,
                        f"message too long: {len(text.encode())} bytes, at most {room} fit",
                    )
                ]
            return [error_event(exc)]
        if len(self._queue) >= self.config.max_queued:
            return [
                LocalError(
                    Reason.QUEUE_FULL,
                    f"not sent: {len(self._queue)} lines are already waiting to go out; "
                    "wait for them",
                )
            ]
        message_id = self._new_message_id()
        if not self._queue and (self._pace is None or self._pace.take(now)):
            self._pending.append(_Pending(message_id, text, now, user))
            return [SendDatagram(data), OutgoingMessage(message_id, text)]
        self._queue.append((message_id, text))
        return [OutgoingMessage(message_id, text, MessageStatus.QUEUED)]

    def request_list(self, now: float) -> list[ClientEvent]:
        """Ask for the user list; its reply is also written to the chat (UserListShown)."""
        if self.state is not ClientState.IN_CHAT:
            return [LocalError(Reason.NOT_LOGGED_IN, "log in first: /login NAME")]
        self._list_shown_until = now + self.config.list_shown_within
        return [self._send_now(ListRequest().encode(), now)]

    def probe(self, now: float) -> list[ClientEvent]:
        """Ask the server for something it answers on the group, without showing it: the
        user list (a doctor's look that counts only what arrives now, ``heard_since``).
        Nothing outside the chat: the server answers no request of a stranger."""
        if self.state is not ClientState.IN_CHAT:
            return []
        return [self._send_now(ListRequest().encode(), now)]

    def leave(self, now: float) -> list[ClientEvent]:
        """Leave the chat once the lines still queued are sent."""
        if self.state is ClientState.LOGGED_OUT:
            return [LocalError(Reason.NOT_LOGGED_IN, "you are not logged in")]
        if self._queue and self.state is ClientState.IN_CHAT:
            self._leave_after_queue = True
            return [Notice(f"You will leave once your {len(self._queue)} queued line(s) are sent.")]
        return self.close(now)

    def close(self, now: float) -> list[ClientEvent]:
        """Leave the chat at once if we are in it (or trying to be): the window closes."""
        if self.state is ClientState.LOGGED_OUT:
            return []
        if self._pace is not None:
            self._pace.force(now)
        return [SendDatagram(ExitRequest().encode()), *self._logged_out("you left the chat")]

    def send_unwelcomed(
        self, message: ChatMessage | ListRequest | ExitRequest, now: float
    ) -> list[ClientEvent]:
        """Send a request although no welcome was understood, with a warning.

        The spec's raw lines must always work: a server whose welcome we cannot
        read may still take them.  No delivery mark can follow.
        """
        out: list[ClientEvent] = [
            self._send_now(message.encode(), now),
            Notice(
                "Sent as typed, although no welcome from the server was understood: "
                "the server may not accept it, and no delivery mark can be shown."
            ),
        ]
        if isinstance(message, ChatMessage):
            out.insert(1, OutgoingMessage(self._new_message_id(), message.text, MessageStatus.SENT))
        elif isinstance(message, ExitRequest) and self.state is ClientState.LOGGING_IN:
            out += self._logged_out("you left the chat")
        return out

    # --- what the group (or the server by unicast) sends --------------------

    def receive(self, data: bytes, source: Source, now: float) -> list[ClientEvent]:
        """Interpret one datagram from the group or from the server, received at ``now``.

        The server core's shape (``receive(data, addr, now)``); ``source`` is the
        sender's (address, port) as ``recvfrom`` gives it, or its address alone (a tool
        that keeps only that: no port is then checked), or None where the caller cannot
        know it.  A datagram from an address outside ``server_sources``, or from a port of
        the server's that is not its sending socket, is only shown.
        """
        return self.receive_all([(data, source)], now)

    @property
    def server_ports(self) -> frozenset[int] | None:
        """The ports the server's datagrams are believed from (None: any, not learned)."""
        return self._server_ports

    def trust_server_ports(self, ports: frozenset[int]) -> None:
        """Believe the server only from ``ports``, as another client of the same server
        learned them from its welcome (a gateway's group reader logs in as nobody)."""
        self._server_ports = ports

    def receive_all(
        self, datagrams: Iterable[tuple[bytes, Source]], now: float
    ) -> list[ClientEvent]:
        """``receive`` for each datagram, in arrival order: their events in one list.

        What a front end calls with everything it has read: under a flood most
        datagrams are chat lines, and each then costs no call and no list of its own.
        """
        events: list[ClientEvent] = []
        sources = self.config.server_sources
        for data, source in datagrams:
            if source is not None and sources:
                address = source if type(source) is str else source[0]
                if address not in sources:
                    events.append(_not_from_server(data, address))
                    continue
                ports = self._server_ports
                if ports is not None and type(source) is tuple and source[1] not in ports:
                    if not self._new_port(data, source, now, events):
                        continue
            self._last_heard = now
            text = plain_chat_text(data)  # a chat line, the common case: parsed in one step
            if text is not None:
                self._relay(text, events)
            else:
                self._parsed(data, source, now, events)
                if self._replay:  # a welcome taught a restarted server's port
                    replay, self._replay = self._replay, []
                    events += self.receive_all(replay, now)
        if self._silent_at is not None and self._last_heard == now:
            self._silent_at = None
            events.append(ChatSilence(False))
        return events

    def _new_port(
        self, data: bytes, source: tuple[str, int], now: float, out: list[ClientEvent]
    ) -> bool:
        """A datagram from the server's address, not from its sending socket: believed at
        once only if it is the welcome that answers a login of ours while the chat is
        silent (a restarted server's new socket; the port is learned from it).  Else it is
        kept while the client finds out whose it is (asks the known socket, ``list,``, or
        awaits a login's welcome), or shown as not from the server."""
        try:
            message = parse_server(data)
        except RemoteProtocolError:
            message = None
        answering = self.state is ClientState.LOGGING_IN or (
            self._rejoin_deadline is not None and self._silent_at is not None
        )
        if isinstance(message, Welcome) and message.user == self.user and answering:
            self._server_ports = None  # learned again by _welcome
            return True
        finding_out = self._port_check is not None or self._rejoin_deadline is not None
        if (
            self.state is ClientState.IN_CHAT
            and not finding_out
            and self.silent
            and self._new_port_asked != self._silent_at
        ):
            # The chat had stopped answering and its address speaks from a new socket: a
            # restarted server, most likely. Ask to be let back in now (its welcome teaches
            # the port), not at the next silent retry: a trial's window showed the chat's
            # lines as "not the server: not trusted" for 25 s after the host came back.
            # Once a silent spell: a stream of such datagrams does not hurry the retries.
            self._new_port_asked = self._silent_at
            out += self._ask_to_rejoin(now)
            finding_out = self._rejoin_deadline is not None
        elif self.state is ClientState.IN_CHAT and not finding_out and not self.silent:
            window = self.config.login_timeout * self.config.login_attempts
            self._port_check = (now, now + window)  # is the server's own socket still there?
            out.append(self._send_now(ListRequest().encode(), now))
            finding_out = True
        if finding_out and len(self._unsure) < UNSURE_KEPT:
            self._unsure.append((data, source))
        else:
            out.append(_not_from_server(data, *source))
        return False

    def _parsed(self, data: bytes, source: Source, now: float, out: list[ClientEvent]) -> None:
        try:
            message = parse_server(data)
        except RemoteProtocolError as exc:
            text = data.decode("utf-8", errors="replace").strip()
            out.append(UnrecognisedLine(text, exc.reason))
            return
        if isinstance(message, ChatRelay):
            self._relay(message.text, out)
        elif isinstance(message, Welcome):
            if message.user == self.user and type(source) is tuple and self.config.server_sources:
                self._learn_port(source[1], now)
            out += self._welcome(message.user, now)
        elif isinstance(message, Bye):
            out += self._bye(message.user, now)
        else:
            assert isinstance(message, UserList)
            out += self._user_list(message.users, len(data), now)

    def _relay(self, text: str, out: list[ClientEvent]) -> None:
        style = self.relay_style
        # lines of ours that wait for their echo (none, mostly), or whose echo is late
        if (self._pending and self._echo_of(self._pending, text, out)) or (
            self._held and self._echo_of(self._held, text, out)
        ):
            return
        head, sep, rest = text.partition(": ")
        named = bool(sep) and wire_name_problem(head) is None
        if style is not RelayStyle.PLAIN and not named:
            # An attributed relay always starts with a name: this server relays
            # plain text (also corrects a first echo that only looked attributed).
            out += self._learn(RelayStyle.PLAIN)
            out.append(IncomingMessage(None, text))
        elif style is RelayStyle.ATTRIBUTED and named and head in self._roster:
            out.append(IncomingMessage(head, rest))
        else:
            # Plain, or not known yet: "alice: hi" may be bob addressing alice on a plain
            # relay, so the line is shown whole and nobody is credited.
            out.append(IncomingMessage(None, text))

    def _echo_of(self, mine: deque[_Pending] | list[_Pending], text: str,
                  out: list[ClientEvent]) -> bool:  # fmt: skip
        """Whether ``text`` is the echo of one of ``mine``: then it is delivered."""
        # A presumed style is not trusted to read our own echo: either form confirms.
        style, sure = self.relay_style, self._style_confirmed
        for i, line in enumerate(mine):
            if (style is not RelayStyle.ATTRIBUTED or not sure) and text == line.text:
                learned = RelayStyle.PLAIN
            elif (style is not RelayStyle.PLAIN or not sure) and (
                text == f"{line.user}: {line.text}"
            ):
                learned = RelayStyle.ATTRIBUTED
            else:
                continue
            del mine[i]
            out += self._learn(learned)
            out.append(MessageDelivered(line.message_id))
            return True
        return False

    def _learn(self, style: RelayStyle) -> list[ClientEvent]:
        presumed = self.relay_style if not self._style_confirmed else RelayStyle.UNKNOWN
        self._style_confirmed = True
        if self.relay_style is style:
            return []
        self.relay_style = style
        return [RelayStyleLearned(style, presumed)]

    def _welcome(self, user: str, now: float) -> list[ClientEvent]:
        out: list[ClientEvent] = []
        if user not in self._roster:
            self._roster[user] = None
            out.append(UserJoined(user))
        if user != self.user:
            return out
        if self.state is ClientState.IN_CHAT and self._rejoin_deadline is not None:
            self._rejoin_deadline = None
            if now <= self._own_welcome_until:  # the answer to our login of _not_relayed
                held, self._held = self._held, []
                again = f" Sending your {len(held)} line(s) again." if held else ""
                out.append(Notice(f"The server welcomed you back into the chat.{again}"))
                if self.config.list_after_login:
                    out.append(self._send_now(ListRequest().encode(), now))
                self._queue.extendleft((mine.message_id, mine.text) for mine in reversed(held))
                self._resent.update(mine.message_id for mine in held)
                self._send_queued(now, out)
                return out
        if self.state is ClientState.LOGGING_IN:
            self._move(Move.WELCOMED)
            self._login_deadline = None
            # Our retries may each be welcomed: those echoes are not a takeover; nor is the
            # answer to a login we resent by ourselves (_ask_to_rejoin) while this one was
            # typed: its window is kept.
            retries = self._login_attempts > 1
            until = now + self.config.login_timeout if retries else now
            self._own_welcome_until = max(self._own_welcome_until, until)
            out.append(StateChanged(self.state, user))
            if self.config.list_after_login:
                out.append(self._send_now(ListRequest().encode(), now))
        elif self.state is ClientState.IN_CHAT and now > self._own_welcome_until:
            out.append(NameTakenOver(user))
            out += self._logged_out("another client took your name")
        return out

    def _learn_port(self, port: int, now: float) -> None:
        """A welcome for our name, from the server's address: if it answers a login of ours
        (not a takeover by another client), its port is the server's sending socket; what
        came from that port meanwhile is read now (``_replay``)."""
        answering = self.state is ClientState.LOGGING_IN or (
            self._rejoin_deadline is not None and now <= self._own_welcome_until
        )
        if answering or self._server_ports is None:
            self._server_ports = frozenset({port, self.config.server_port})
            # read again: those from the port now known as the server's, believed; the
            # rest found out anew (or shown)
            self._replay, self._unsure = self._unsure, []

    def _unsure_shown(self) -> list[ClientEvent]:
        """The datagrams kept while finding out, now known not to be the server's."""
        unsure, self._unsure = self._unsure, []
        return [_not_from_server(data, *source) for data, source in unsure]

    def _bye(self, user: str, now: float) -> list[ClientEvent]:
        out: list[ClientEvent] = [UserLeft(user)]
        self._roster.pop(user, None)
        if self.state is ClientState.IN_CHAT and user == self.user:
            # We did not ask (leaving logs out at once): the server ended the session,
            # as ours does for everyone when it stops.
            out += self._logged_out("the server ended your session")
            self._ended_at = now  # SessionEnded once the others' byes had time to come
        return out

    def _user_list(self, users: tuple[str, ...], size: int, now: float) -> list[ClientEvent]:
        if self._list_open_until is not None and now <= self._list_open_until:
            for user in users:
                self._roster.setdefault(user, None)
        else:
            self._roster = dict.fromkeys(users)
        full = size >= LIST_CHUNK_FULL_BYTES
        self._list_open_until = now + self.config.list_continuation if full else None
        out: list[ClientEvent] = [RosterChanged(tuple(self._roster))]
        shown = self._list_shown_until
        if shown is not None and not full:  # the last chunk of the reply
            self._list_shown_until = None
            if now <= shown:
                out.append(UserListShown(tuple(self._roster)))
        return out

    # --- time -----------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When ``handle_timer`` next has something to do; None if nothing is waiting."""
        deadlines = []
        if self._login_deadline is not None:
            deadlines.append(self._login_deadline)
        if self._rejoin_deadline is not None:
            deadlines.append(self._rejoin_deadline)
        if self._port_check is not None:
            deadlines.append(self._port_check[1])
        if self._ended_at is not None:
            deadlines.append(self._ended_at + ENDED_WITHIN)
        retry = self._silent_retry_at()
        if retry is not None:
            deadlines.append(retry)
        if self._pending:
            deadlines.append(self._pending[0].sent_at + self.config.delivery_timeout)
        if self._queue and self._pace is not None:
            deadlines.append(self._pace.ready_at())
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> list[ClientEvent]:
        """Retry or give up a login, send queued lines, report lines never relayed."""
        out: list[ClientEvent] = []
        if self._ended_at is not None and now >= self._ended_at + ENDED_WITHIN:
            self._ended_at = None
            out.append(SessionEnded(everyone=not self._roster))  # nobody left: the chat ended
        if self._login_deadline is not None and now >= self._login_deadline:
            out += self._retry_login(now)
        if self._rejoin_deadline is not None and now >= self._rejoin_deadline:
            out += self._not_welcomed_back(now)
        retry = self._silent_retry_at()
        if retry is not None and now >= retry:
            out += self._ask_to_rejoin(now)  # is the chat back?
        if self._port_check is not None and now >= self._port_check[1]:
            asked, _ = self._port_check
            self._port_check = None
            # strictly after: what came in the same batch as the unknown port's came before
            # the question (one clock reading per batch)
            answered = self._last_heard is not None and self._last_heard > asked
            if not answered and self.state is ClientState.IN_CHAT:
                out += self._fall_silent(now)  # its socket is gone: a restarted server?
                out += self._ask_to_rejoin(now)
            else:  # the server's socket answered: the other port is not the server
                out += self._unsure_shown()
        self._send_queued(now, out)
        lost: list[_Pending] = []
        while self._pending and now >= self._pending[0].sent_at + self.config.delivery_timeout:
            lost.append(self._pending.popleft())
        if lost:
            out += self._not_relayed(lost, now)
        return out

    def _retry_login(self, now: float) -> list[ClientEvent]:
        if self._login_attempts < self.config.login_attempts:
            self._login_attempts += 1
            self._login_deadline = now + self.config.login_timeout
            return [self._send_now(LoginRequest(self.user or "").encode(), now)]
        tries = self._login_attempts
        return [
            # A welcome we never heard (sent to a group we do not hear) may still have
            # let us in: the exit takes the login back, or the name stays held by nobody.
            SendDatagram(ExitRequest().encode()),
            *self._logged_out("no welcome came"),
            LocalError(
                Reason.NO_WELCOME,
                f"no welcome from the server after {tries} tries: "
                "is the server running, or is the name taken?",
            ),
        ]

    def _send_queued(self, now: float, out: list[ClientEvent]) -> None:
        while self._queue and (self._pace is None or self._pace.take(now)):
            message_id, text = self._queue.popleft()
            resent = bool(self._resent) and message_id in self._resent
            if resent:
                self._resent.discard(message_id)
            self._pending.append(_Pending(message_id, text, now, self.user or "", resent))
            out += [SendDatagram(ChatMessage(text).encode()), MessageSent(message_id)]
        if self._leave_after_queue and not self._queue:
            out += self.close(now)

    def _not_relayed(self, lost: list[_Pending], now: float) -> list[ClientEvent]:
        """Lines whose echo did not come in time: say only what is known.

        Heard from the server since a line went out: it relays, but not ours.  The usual
        cause is a restart that forgot our session; so log in again and send it again when
        welcomed (once: a second refusal is final).  Heard nothing at all since: the line
        may or may not have been relayed (``DeliveryUnknown``) and the chat is silent."""
        heard = self._last_heard
        refused: list[_Pending] = []  # the server relayed something after we sent these
        unheard: list[_Pending] = []
        for mine in lost:
            relaying = heard is not None and heard > mine.sent_at
            (refused if relaying else unheard).append(mine)
        timeout = f"{self.config.delivery_timeout:g} s"
        out: list[ClientEvent] = []
        rejoining = self.state is ClientState.IN_CHAT and bool(self.user)
        retry = [mine for mine in refused if not mine.resent and rejoining]
        final = [mine.message_id for mine in refused if mine.resent or not rejoining]
        if final:
            out += [
                DeliveryFailed(tuple(final)),
                LocalError(
                    Reason.NOT_RELAYED,
                    f"{len(final)} line(s) not relayed within {timeout}, although the "
                    "server relays other lines: it refused or lost them. Send them again; "
                    "if it keeps happening, type /login to log in again.",
                ),
            ]
        if retry:
            self._held += retry
            out.append(
                Notice(
                    f"The server relays other lines but not your last {len(retry)}: it may "
                    "have been restarted and forgotten you. Logging you in again to send "
                    "them."
                )
            )
        if unheard:
            silent = "nothing has come from the chat since"
            if heard is not None:
                silent = f"nothing has come from the chat since {now - heard:.0f} s ago"
            for mine in unheard:
                mine.unconfirmed = True
                if not mine.resent and rejoining:
                    self._held.append(mine)
            out += [
                DeliveryUnknown(tuple(mine.message_id for mine in unheard)),
                LocalError(
                    Reason.SERVER_SILENT,
                    f"{len(unheard)} line(s) not confirmed within {timeout}: {silent}, so "
                    "whether the others got them cannot be known here.",
                ),
            ]
            out += self._fall_silent(now)
        if retry or unheard:
            out += self._ask_to_rejoin(now)
        return out

    def _fall_silent(self, now: float) -> list[ClientEvent]:
        if self._silent_at is not None:
            return []
        self._silent_at = now
        return [ChatSilence(True)]

    def _silent_retry_at(self) -> float | None:
        """While the chat is silent (in it, no login of ours awaited): when to send our
        login again, so that a server back from a crash has us back, and the lines kept
        for it go, without the person typing: 5 s after the chat fell silent, then the
        gap doubles up to SILENT_RETRY_MAX (a window at rest wakes rarely)."""
        if self._silent_at is None or self._rejoin_deadline is not None:
            return None
        if self.state is not ClientState.IN_CHAT:
            return None
        return self._rejoin_last + self._silent_gap

    def _ask_to_rejoin(self, now: float) -> list[ClientEvent]:
        """In the chat, our lines unrelayed: send our login again, unless one is awaited
        already.  A server that restarted welcomes us (_welcome then sends the held lines
        and keeps us in the chat); one that keeps the session welcomes us again (ours:
        WELCOME_AGAIN), which is not a takeover inside the window."""
        if self.state is not ClientState.IN_CHAT or not self.user:
            return []
        if self._rejoin_deadline is not None:
            return []
        window = self.config.login_timeout * self.config.login_attempts
        if self._silent_at is not None and self._rejoin_last >= self._silent_at:
            self._silent_gap = min(self._silent_gap * 2, SILENT_RETRY_MAX)  # asked again
        else:
            self._silent_gap = SILENT_RETRY_FIRST
        self._rejoin_last = now
        self._rejoin_deadline = now + window
        self._own_welcome_until = now + window
        return [self._send_now(LoginRequest(self.user).encode(), now)]

    def _not_welcomed_back(self, now: float) -> list[ClientEvent]:
        """Our login sent again got no welcome in its window: the lines held for it are not
        sent; the chat is silent, or it relays others and will not have us back."""
        self._rejoin_deadline = None
        # the lines nothing came back for wait for the next welcome (the chat may come
        # back: _silent_retry asks again); those refused while others were relayed are final
        refused = [mine.message_id for mine in self._held if not mine.unconfirmed]
        self._held = [mine for mine in self._held if mine.unconfirmed]
        out: list[ClientEvent] = self._unsure_shown()  # no welcome taught their port
        if refused:
            out += [
                DeliveryFailed(tuple(refused)),
                LocalError(
                    Reason.NOT_RELAYED,
                    f"{len(refused)} line(s) not relayed: the server relays other lines but "
                    f"did not welcome you back as {self.user}. Type /login to log in again "
                    "(another may have taken the name).",
                ),
            ]
        if not self.heard_since(now - self.config.login_timeout * self.config.login_attempts):
            out += self._fall_silent(now)
        return out

    # --- helpers ------------------------------------------------------------

    def _new_message_id(self) -> int:
        message_id = self._next_id
        self._next_id += 1
        return message_id

    def _send_now(self, data: bytes, now: float) -> SendDatagram:
        """A control datagram (login, list, exit): never waits, but counts toward the pace."""
        if self._pace is not None:
            self._pace.force(now)
        return SendDatagram(data)

    def _move(self, move: Move) -> None:
        self.state = MOVES[self.state, move]

    def _logged_out(self, why: str) -> list[ClientEvent]:
        """Leave the chat state; lines still queued cannot be sent any more."""
        self._move(Move.LEFT)
        self.user = None
        self._login_deadline = None
        self._rejoin_deadline = None
        self._silent_at = None  # a chat we are not in is not ours to call silent
        self._port_check = None
        self._leave_after_queue = False
        self._list_shown_until = None
        held, self._held = self._held, []
        self._resent.clear()
        out: list[ClientEvent] = [StateChanged(self.state, None), *self._unsure_shown()]
        unsent = tuple(mine.message_id for mine in held if not mine.unconfirmed)
        if unsent:  # refused, held for a welcome back that will not come now
            out += [
                DeliveryFailed(unsent),
                LocalError(Reason.NOT_RELAYED, f"{len(unsent)} line(s) not relayed: {why}"),
            ]
        if self._queue:
            ids = tuple(message_id for message_id, _ in self._queue)
            self._queue.clear()
            out += [
                DeliveryFailed(ids),
                LocalError(Reason.NOT_SENT, f"{len(ids)} queued line(s) not sent: {why}"),
            ]
        return out
