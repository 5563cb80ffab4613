"""The wire format: typed messages, their encoders and the two parsers.

Every datagram is ``<type>,<body>`` in UTF-8.  We are strict when we send
(``encode`` refuses anything another implementation could misread) and
tolerant when we receive (blanks around the type and body, any case of the
type, a trailing newline, ``welcome, bob``, ``list, a, b``), because the
implementations in the wild differ in exactly those ways.  The body is split
from the type at the FIRST comma only, so chat text keeps its commas.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import ClassVar, Union

from .errors import LocalProtocolError, RemoteProtocolError
from .limits import MAX_DATAGRAM_BYTES, MAX_NAME_CHARS
from .names import name_problem, wire_name_problem
from .reasons import REASONS, Reason

_TEXT_FORBIDDEN = frozenset({"Cc", "Cs", "Zl", "Zp"})


def text_problem(text: str) -> Reason | None:
    """Return why ``text`` cannot be sent as a chat message, or None.

    Line breaks and control characters are refused because every peer shows
    the datagram raw in one line and logs it in one line.
    """
    if not text:
        return Reason.TEXT_EMPTY
    if text != text.strip():
        return Reason.TEXT_WHITESPACE
    if not text.isprintable() and any(
        ch != "\t" and unicodedata.category(ch) in _TEXT_FORBIDDEN for ch in text
    ):  # isprintable() is the C fast path; the categories decide the rare rest
        return Reason.TEXT_CONTROL
    return None


def _frame(kind: str, body: str) -> bytes:
    data = f"{kind},{body}".encode()
    if len(data) > MAX_DATAGRAM_BYTES:
        raise LocalProtocolError(Reason.TOO_LONG, f"{kind} datagram of {len(data)} bytes")
    return data


def _require_name(name: str) -> str:
    """A name we send in a login: the full login policy (length included)."""
    problem = name_problem(name)
    if problem is not None:
        raise LocalProtocolError(problem, f"{REASONS[problem]}: {name!r}")
    return name


def _require_wire_name(name: str) -> str:
    """A name a server announces: only what no peer could misread is refused,
    so a tool that parses another server's welcome can send it on unchanged."""
    problem = wire_name_problem(name)
    if problem is not None:
        raise LocalProtocolError(problem, f"{REASONS[problem]}: {name!r}")
    return name


def _require_text(text: str) -> str:
    problem = text_problem(text)
    if problem is not None:
        raise LocalProtocolError(problem, REASONS[problem])
    return text


# --- client to server -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoginRequest:
    """``login,<user>``: claim a name in the chat."""

    user: str
    kind: ClassVar[str] = "login"

    def encode(self) -> bytes:
        return _frame(self.kind, _require_name(self.user))


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """``msg,<text>``: a line for the server to relay to everyone."""

    text: str
    kind: ClassVar[str] = "msg"

    def encode(self) -> bytes:
        return _frame(self.kind, _require_text(self.text))


@dataclass(frozen=True, slots=True)
class ListRequest:
    """``list,``: ask for the names of everyone in the chat."""

    kind: ClassVar[str] = "list"

    def encode(self) -> bytes:
        return b"list,"


@dataclass(frozen=True, slots=True)
class ExitRequest:
    """``exit,``: leave the chat."""

    kind: ClassVar[str] = "exit"

    def encode(self) -> bytes:
        return b"exit,"


# --- server to clients ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Welcome:
    """``welcome,<user>``: someone entered the chat."""

    user: str
    kind: ClassVar[str] = "welcome"

    def encode(self) -> bytes:
        return _frame(self.kind, _require_wire_name(self.user))


@dataclass(frozen=True, slots=True)
class ChatRelay:
    """``msg,<text>``: a chat line relayed to everyone.

    Our server sends ``<user>: <text>``; others send the bare text, so the
    sender is recovered when the text starts with a valid name and ``": "``.
    """

    text: str
    kind: ClassVar[str] = "msg"

    @classmethod
    def attributed(cls, user: str, text: str) -> ChatRelay:
        """The relay our server sends: the sender's name, a colon, the text."""
        return cls(f"{user}: {text}")

    @staticmethod
    def attributed_prefix(user: str) -> bytes:
        """What ``attributed(user, text).encode()`` puts before the text's bytes.

        A server keeps it per session, so relaying a plain chat line is one
        concatenation (see ``plain_chat_text``).
        """
        return f"{ChatRelay.kind},{user}: ".encode()

    def split(self) -> tuple[str | None, str]:
        """``(sender, body)``; the sender is None when the text does not start
        with a valid name and ``": "`` (servers that relay without a sender)."""
        head, sep, rest = self.text.partition(": ")
        if sep and wire_name_problem(head) is None:
            return head, rest
        return None, self.text

    @property
    def sender(self) -> str | None:
        return self.split()[0]

    @property
    def body(self) -> str:
        return self.split()[1]

    def encode(self) -> bytes:
        return _frame(self.kind, _require_text(self.text))


@dataclass(frozen=True, slots=True)
class Bye:
    """``bye,<user>``: someone left the chat."""

    user: str
    kind: ClassVar[str] = "bye"

    def encode(self) -> bytes:
        return _frame(self.kind, _require_wire_name(self.user))


@dataclass(frozen=True, slots=True)
class UserList:
    """``list,<user>,<user>,...``: everyone in the chat, in login order.

    A long roster does not fit one datagram: ``UserList.chunks`` splits it
    into several replies, each full but the last (see ``LIST_CHUNK_FULL_BYTES``).
    """

    users: tuple[str, ...]
    kind: ClassVar[str] = "list"

    def encode(self) -> bytes:
        return _frame(self.kind, ",".join(_require_wire_name(u) for u in self.users))

    @classmethod
    def chunks(cls, users: tuple[str, ...] | list[str]) -> list[UserList]:
        """Split a roster into replies of at most MAX_DATAGRAM_BYTES each.

        Greedy packing makes every reply but the last at least
        LIST_CHUNK_FULL_BYTES long, which is how a client tells that more follow.
        """
        out: list[UserList] = []
        current: list[str] = []
        size = len(b"list,")
        for user in users:
            cost = len(user.encode()) + (1 if current else 0)
            if current and size + cost > MAX_DATAGRAM_BYTES:
                out.append(cls(tuple(current)))
                current, size, cost = [], len(b"list,"), len(user.encode())
            current.append(user)
            size += cost
        out.append(cls(tuple(current)))
        return out


LIST_CHUNK_FULL_BYTES = MAX_DATAGRAM_BYTES - 4 * 32
"""A list reply at least this long may be continued by the next one: greedy
packing only closes a reply when the next name (at most 32 characters of at
most 4 UTF-8 bytes, plus a comma) would not fit."""

ClientMessage = Union[LoginRequest, ChatMessage, ListRequest, ExitRequest]
ServerMessage = Union[Welcome, ChatRelay, Bye, UserList]


# --- parsing ----------------------------------------------------------------


def _split(data: bytes) -> tuple[str, str]:
    """Frame checks shared by both directions: size, UTF-8, ``type,body``."""
    if len(data) > MAX_DATAGRAM_BYTES:
        raise RemoteProtocolError(Reason.TOO_LONG, f"{len(data)} bytes")
    try:
        line = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RemoteProtocolError(Reason.NOT_UTF8, f"bad byte at offset {exc.start}") from None
    line = line.strip()
    if not line:
        raise RemoteProtocolError(Reason.EMPTY)
    kind, sep, body = line.partition(",")
    if not sep:
        raise RemoteProtocolError(Reason.NO_COMMA, _excerpt(line))
    kind = kind.strip().lower()
    if not kind:
        raise RemoteProtocolError(Reason.NO_TYPE, _excerpt(line))
    return kind, body.strip()


def _excerpt(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _without_repeated_type(body: str, kind: str) -> str:
    """``login,login,bob`` -> ``bob``: clients that prefix what the user typed
    (``login,bob``) with the type again.  Safe for login only: a name can hold
    no comma, so ``login,<x>,...`` can never be a name of its own."""
    head, sep, rest = body.partition(",")
    if sep and head.strip().lower() == kind:
        return rest.strip()
    return body


def parse_client(data: bytes) -> ClientMessage:
    """Parse a datagram a client sent to the server, or raise RemoteProtocolError.

    Names are held to the full name rules here, because the server is where a
    name enters the chat.  ``exit,<anything>`` and ``list,<anything>`` are
    accepted, as some clients send ``exit,<user>``.
    """
    kind, body = _split(data)
    if kind == "msg":
        problem = text_problem(body)
        if problem is not None:
            raise RemoteProtocolError(problem, REASONS[problem])
        return ChatMessage(body)
    if kind == "login":
        body = _without_repeated_type(body, "login")
        problem = name_problem(body)
        if problem is not None:
            raise RemoteProtocolError(problem, f"{REASONS[problem]}: {_excerpt(body)}")
        return LoginRequest(body)
    if kind == "list":
        return ListRequest()
    if kind == "exit":
        return ExitRequest()
    raise RemoteProtocolError(Reason.UNKNOWN_TYPE, _excerpt(kind))


def plain_chat_text(data: bytes) -> str | None:
    """The text of a ``msg,<text>`` datagram that needs none of ``parse_client``'s forgiveness.

    The common case, checked in a few C-level calls: the exact prefix ``msg,``,
    valid UTF-8, and printable text without surrounding blanks.  Anything this
    returns, ``parse_client`` would parse to ``ChatMessage`` and ``parse_server``
    to ``ChatRelay`` of the same text (a hypothesis test holds both); None means
    "ask the parser", never "invalid".  The server relays by it, the client reads
    relays by it.
    """
    if data[:4] != b"msg," or len(data) > MAX_DATAGRAM_BYTES:
        return None
    try:
        text = data[4:].decode()  # UTF-8 (the default, which skips the codec lookup)
    except UnicodeDecodeError:
        return None
    if text.isprintable() and text and text[0] != " " and text[-1] != " ":
        return text
    return None


_LOGIN_PREFIX = b"login,"
_LONGEST_PLAIN_LOGIN = len(_LOGIN_PREFIX) + MAX_NAME_CHARS


def plain_login_name(data: bytes) -> str | None:
    """The name of a ``login,<user>`` datagram that needs none of ``parse_client``'s
    forgiveness and none of the name rules beyond printable ASCII's.

    The common case (``login,bob``), checked in a few C-level calls: the exact
    prefix ``login,``, then at most ``MAX_NAME_CHARS`` printable ASCII
    characters without a comma, a colon or surrounding blanks.  Anything this
    returns, ``parse_client`` would parse to ``LoginRequest`` of the same name
    (a hypothesis test holds it); None means "ask the parser", never "invalid".
    """
    if data[: len(_LOGIN_PREFIX)] != _LOGIN_PREFIX or len(data) > _LONGEST_PLAIN_LOGIN:
        return None
    raw = data[len(_LOGIN_PREFIX) :]
    if not raw.isascii() or b"," in raw or b":" in raw:
        return None
    name = raw.decode("ascii")
    if name and name.isprintable() and name[0] != " " and name[-1] != " ":
        return name
    return None


def parse_server(data: bytes) -> ServerMessage:
    """Parse a datagram a server sent to the group, or raise RemoteProtocolError.

    Names and text from a server are taken as they come (other servers admit
    longer names than ours), as long as ``encode`` could send them again: what
    this parser returns always round-trips.  A list reply whose body is clearly
    not names (the dict repr or ``User list: a,b`` that other servers send:
    both have ``": "``, which no name can contain) is refused so that a client
    does not put garbage in its roster.
    """
    kind, body = _split(data)
    if kind == "msg":
        problem = text_problem(body)
        if problem is not None:
            raise RemoteProtocolError(problem, REASONS[problem])
        return ChatRelay(body)
    if kind in ("welcome", "bye"):
        problem = wire_name_problem(body)
        if problem is not None:
            raise RemoteProtocolError(problem, f"{REASONS[problem]}: {_excerpt(body)}")
        return Welcome(body) if kind == "welcome" else Bye(body)
    if kind == "list":
        if ": " in body:  # no name has a colon; a dict repr or "User list: a,b" does
            raise RemoteProtocolError(Reason.LIST_NOT_NAMES, _excerpt(body))
        users = tuple(u for u in (part.strip() for part in body.split(",")) if u)
        if any(wire_name_problem(u) is not None for u in users):
            raise RemoteProtocolError(Reason.LIST_NOT_NAMES, _excerpt(body))
        return UserList(users)
    raise RemoteProtocolError(Reason.UNKNOWN_TYPE, _excerpt(kind))
