"""The client's protocol logic, with no sockets and no GUI: lines in, events out.

``ClientCore`` turns what a person types into datagrams for the server (or a
local error they can read), and what the group delivers into display events.
It keeps the client's own state (logged out, logging in, in chat), retries a
login that gets no welcome, and matches relays to the user's own messages to
mark them delivered.  Time is passed in, so every timeout is testable without
sleeping; the caller asks ``next_deadline()`` and calls ``tick(now)`` then.

What a person may type:
- the spec's raw protocol lines, as its reference client sends them:
  ``login,bob``, ``msg,hi, all``, ``list,``, ``exit,``;
- plain text, sent as ``msg,<text>`` once logged in;
- slash commands: ``/login NAME`` (or just ``/login`` to log in again under the
  last name), ``/list``, ``/quit``, ``/help``; ``//text`` sends ``/text``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Union

from .errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from .names import clean_name
from .wire import (
    LIST_CHUNK_FULL_BYTES,
    MAX_DATAGRAM_BYTES,
    REASONS,
    Bye,
    ChatMessage,
    ChatRelay,
    ExitRequest,
    ListRequest,
    LoginRequest,
    UserList,
    Welcome,
    parse_client,
    parse_server,
)

_PROTOCOL_TYPES = frozenset({"login", "msg", "list", "exit"})

HELP_TEXT = (
    "Type a message and press Enter to send it once you are logged in. "
    "Commands: /login NAME, /list, /quit, /help. "
    "Raw protocol lines work too: login,NAME  msg,TEXT  list,  exit,"
)


class ClientState(StrEnum):
    """The client's own view of where it is; values are shown to the user."""

    LOGGED_OUT = "logged out"
    LOGGING_IN = "logging in"
    IN_CHAT = "in chat"


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Timeouts of the client; UDP loses datagrams, so nothing waits forever."""

    login_timeout: float = 1.0  # seconds to wait for our welcome per attempt
    login_attempts: int = 3
    delivery_timeout: float = 5.0  # seconds until an unrelayed message counts as lost
    list_after_login: bool = True  # ask for the roster once our welcome arrives
    list_continuation: float = 1.0  # seconds in which a full list reply may be continued


# --- events out -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendDatagram:
    """Send ``data`` to the server by unicast."""

    data: bytes


@dataclass(frozen=True, slots=True)
class StateChanged:
    """The client's state changed; ``user`` is our name (or the one being tried)."""

    state: ClientState
    user: str | None


@dataclass(frozen=True, slots=True)
class LocalError:
    """Something the user asked for cannot be done; ``message`` is for them."""

    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Information for the user that is neither an error nor chat (help text)."""

    message: str


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """Our own chat line was sent; it is pending until its relay comes back."""

    message_id: int
    text: str


@dataclass(frozen=True, slots=True)
class MessageDelivered:
    """The group relayed our message ``message_id``: everyone got it."""

    message_id: int


@dataclass(frozen=True, slots=True)
class DeliveryFailed:
    """No relay came back for these messages in time: the server may be gone."""

    message_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A chat line from the group; ``sender`` is None when the server omits it."""

    sender: str | None
    text: str


@dataclass(frozen=True, slots=True)
class UserJoined:
    user: str


@dataclass(frozen=True, slots=True)
class UserLeft:
    user: str


@dataclass(frozen=True, slots=True)
class RosterChanged:
    """The full user list, in the server's order."""

    users: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UnrecognisedLine:
    """A datagram that is not this protocol as we know it: show it raw."""

    text: str
    reason: str


@dataclass(frozen=True, slots=True)
class QuitRequested:
    """The user asked to leave the application (``/quit``)."""


ClientEvent = Union[
    SendDatagram,
    StateChanged,
    LocalError,
    Notice,
    OutgoingMessage,
    MessageDelivered,
    DeliveryFailed,
    IncomingMessage,
    UserJoined,
    UserLeft,
    RosterChanged,
    UnrecognisedLine,
    QuitRequested,
]


def _error(exc: ProtocolError) -> LocalError:
    """The user-facing sentence for a refused line: the reason's, else the detail."""
    return LocalError(exc.reason, REASONS.get(exc.reason, exc.detail or exc.reason))


class ClientCore:
    """All of a chat client's decisions, for a GUI or any other tool."""

    def __init__(self, config: ClientConfig | None = None) -> None:
        self.config = config or ClientConfig()
        self.state = ClientState.LOGGED_OUT
        self.user: str | None = None  # our name: in chat, or being tried
        self.last_user: str | None = None  # for a bare /login
        self.roster: list[str] = []
        self._login_attempts = 0
        self._login_deadline: float | None = None
        self._next_id = 1
        self._pending: deque[tuple[int, str, float]] = deque()  # (id, text, sent_at)
        self._list_open_until: float | None = None

    # --- what the user types ------------------------------------------------

    def command(self, line: str, now: float) -> list[ClientEvent]:
        """Interpret one line typed by the user."""
        line = line.strip()
        if not line:
            return []
        if line.startswith("//"):
            return self._chat(line[1:], now)
        if line.startswith("/"):
            return self._slash(line, now)
        kind, sep, _ = line.partition(",")
        if sep and kind.strip().lower() in _PROTOCOL_TYPES:
            return self._protocol_line(line, now)
        return self._chat(line, now)

    def _slash(self, line: str, now: float) -> list[ClientEvent]:
        word, _, rest = line[1:].partition(" ")
        word = word.lower()
        if word == "login":
            name = rest.strip() or self.last_user
            if not name:
                return [LocalError("usage", "type /login followed by your name")]
            return self._login(name, now)
        if word == "list":
            return self._list()
        if word in ("quit", "exit"):
            return [*self.close(now), QuitRequested()]
        if word == "help":
            return [Notice(HELP_TEXT)]
        return [LocalError("unknown-command", f"unknown command /{word}; try /help")]

    def _protocol_line(self, line: str, now: float) -> list[ClientEvent]:
        try:
            message = parse_client(line.encode())
        except RemoteProtocolError as exc:
            return [_error(exc)]
        if isinstance(message, LoginRequest):
            return self._login(message.user, now)
        if isinstance(message, ChatMessage):
            return self._chat(message.text, now)
        if isinstance(message, ListRequest):
            return self._list()
        assert isinstance(message, ExitRequest)
        if self.state is ClientState.LOGGED_OUT:
            return [LocalError("not-logged-in", "you are not logged in")]
        return self.close(now)

    def _login(self, raw_name: str, now: float) -> list[ClientEvent]:
        try:
            name = clean_name(raw_name)
        except LocalProtocolError as exc:
            return [LocalError(exc.reason, exc.detail)]
        if self.state is ClientState.IN_CHAT and name != self.user:
            return [
                LocalError(
                    "already-logged-in",
                    f"you are in the chat as {self.user}; type exit, (or /quit) first",
                )
            ]
        self.user = self.last_user = name
        self.state = ClientState.LOGGING_IN
        self._login_attempts = 1
        self._login_deadline = now + self.config.login_timeout
        return [StateChanged(self.state, name), SendDatagram(LoginRequest(name).encode())]

    def _list(self) -> list[ClientEvent]:
        if self.state is not ClientState.IN_CHAT:
            return [LocalError("not-logged-in", "log in first: /login NAME")]
        return [SendDatagram(ListRequest().encode())]

    def _chat(self, text: str, now: float) -> list[ClientEvent]:
        if self.state is not ClientState.IN_CHAT:
            hint = (
                "wait for the welcome"
                if self.state is ClientState.LOGGING_IN
                else "log in first: /login NAME"
            )
            return [LocalError("not-logged-in", f"not sent: {hint}")]
        text = text.strip()
        try:
            data = ChatMessage(text).encode()
            ChatRelay.attributed(self.user or "", text).encode()  # must fit relayed too
        except LocalProtocolError as exc:
            if exc.reason == "too-long":
                room = MAX_DATAGRAM_BYTES - len(f"msg,{self.user}: ".encode())
                return [
                    LocalError(
                        "too-long",
                        f"message too long: {len(text.encode())} bytes, at most {room} fit",
                    )
                ]
            return [_error(exc)]
        message_id = self._next_id
        self._next_id += 1
        self._pending.append((message_id, text, now))
        return [SendDatagram(data), OutgoingMessage(message_id, text)]

    def close(self, now: float) -> list[ClientEvent]:
        """Leave the chat if we are in it (or trying to be): the window closes."""
        if self.state is ClientState.LOGGED_OUT:
            return []
        self._set_logged_out()
        return [SendDatagram(ExitRequest().encode()), StateChanged(self.state, None)]

    # --- what the group (or the server by unicast) sends --------------------

    def receive(self, data: bytes, now: float) -> list[ClientEvent]:
        """Interpret one datagram from the group or from the server."""
        try:
            message = parse_server(data)
        except RemoteProtocolError as exc:
            text = data.decode("utf-8", errors="replace").strip()
            return [UnrecognisedLine(text, exc.reason)]
        if isinstance(message, ChatRelay):
            return self._relay(message)
        if isinstance(message, Welcome):
            return self._welcome(message.user)
        if isinstance(message, Bye):
            return self._bye(message.user)
        assert isinstance(message, UserList)
        return self._user_list(message.users, len(data), now)

    def _relay(self, relay: ChatRelay) -> list[ClientEvent]:
        sender, body = relay.split()
        for i, (message_id, text, _) in enumerate(self._pending):
            if relay.text == text or (sender == self.user and body == text):
                del self._pending[i]
                return [MessageDelivered(message_id)]
        return [IncomingMessage(sender, body)]

    def _welcome(self, user: str) -> list[ClientEvent]:
        out: list[ClientEvent] = []
        if user not in self.roster:
            self.roster.append(user)
            out += [UserJoined(user), RosterChanged(tuple(self.roster))]
        if self.state is ClientState.LOGGING_IN and user == self.user:
            self.state = ClientState.IN_CHAT
            self._login_deadline = None
            out.append(StateChanged(self.state, user))
            if self.config.list_after_login:
                out.append(SendDatagram(ListRequest().encode()))
        return out

    def _bye(self, user: str) -> list[ClientEvent]:
        out: list[ClientEvent] = []
        if user in self.roster:
            self.roster.remove(user)
            out += [UserLeft(user), RosterChanged(tuple(self.roster))]
        else:
            out.append(UserLeft(user))
        if self.state is ClientState.IN_CHAT and user == self.user:
            self._set_logged_out()
            out.append(StateChanged(self.state, None))
        return out

    def _user_list(self, users: tuple[str, ...], size: int, now: float) -> list[ClientEvent]:
        if self._list_open_until is not None and now <= self._list_open_until:
            self.roster.extend(u for u in users if u not in self.roster)
        else:
            self.roster = list(dict.fromkeys(users))
        full = size >= LIST_CHUNK_FULL_BYTES
        self._list_open_until = now + self.config.list_continuation if full else None
        return [RosterChanged(tuple(self.roster))]

    # --- time -----------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When ``tick`` next has something to do; None if nothing is waiting."""
        deadlines = []
        if self._login_deadline is not None:
            deadlines.append(self._login_deadline)
        if self._pending:
            deadlines.append(self._pending[0][2] + self.config.delivery_timeout)
        return min(deadlines) if deadlines else None

    def tick(self, now: float) -> list[ClientEvent]:
        """Retry a login or give up on it, and report messages never relayed."""
        out: list[ClientEvent] = []
        if self._login_deadline is not None and now >= self._login_deadline:
            if self._login_attempts < self.config.login_attempts:
                self._login_attempts += 1
                self._login_deadline = now + self.config.login_timeout
                out.append(SendDatagram(LoginRequest(self.user or "").encode()))
            else:
                tries = self._login_attempts
                self._set_logged_out()
                out.append(StateChanged(self.state, None))
                out.append(
                    LocalError(
                        "no-welcome",
                        f"no welcome from the server after {tries} tries: "
                        "is the server running, or is the name taken?",
                    )
                )
        lost = []
        while self._pending and now >= self._pending[0][2] + self.config.delivery_timeout:
            lost.append(self._pending.popleft()[0])
        if lost:
            out.append(DeliveryFailed(tuple(lost)))
            out.append(
                LocalError(
                    "not-relayed",
                    f"{len(lost)} message(s) not relayed by the server within "
                    f"{self.config.delivery_timeout:g} s; it may have restarted: "
                    "type /login to log in again",
                )
            )
        return out

    def _set_logged_out(self) -> None:
        self.state = ClientState.LOGGED_OUT
        self.user = None
        self._login_deadline = None
