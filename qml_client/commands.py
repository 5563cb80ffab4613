"""What a person types in the window, turned into ``ClientCore`` calls: the typed-line grammar.

The window's own: its commands (``/clear``, ``/search``, ``/quit``), its help text and
its keys are not the protocol's, so they live in the client, not in ``protocol_lib``
(which keeps the assignment's grammar and the API tools call).

Kept apart from ``ClientCore``, whose API for tools (``login``, ``say``,
``request_list``, ``leave``) takes text literally: a bot that says
"exit, stage left" says it, it does not leave.  A person's input line is
richer: ``/login NAME``, ``/list``, ``/quit``, ``/help``, ``//text`` for a line
that starts with a slash, the spec's raw lines (``login,NAME``, ``msg,TEXT``,
``list,``, ``exit,``) for those who learned the protocol first, and pastes of
several lines (one message per line).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Union

from protocol_lib.client import ClientCore
from protocol_lib.client_events import (
    ClientEvent,
    ClientState,
    LocalError,
    Notice,
    error_event,
)
from protocol_lib.errors import LocalProtocolError, RemoteProtocolError
from protocol_lib.names import clean_name
from protocol_lib.reasons import Reason
from protocol_lib.wire import ChatMessage, ListRequest, LoginRequest, parse_client


@dataclass(frozen=True, slots=True)
class QuitRequested:
    """The user asked to leave the application (``/quit``)."""


@dataclass(frozen=True, slots=True)
class ClearRequested:
    """The user asked to clear the view (``/clear``); the chat goes on."""


@dataclass(frozen=True, slots=True)
class DoctorRequested:
    """The user asked why nobody can be heard (``/doctor``)."""


@dataclass(frozen=True, slots=True)
class SearchRequested:
    """The user asked to search the kept history (``/search WORDS``, the search bar's
    "Search the history")."""

    words: str


@dataclass(frozen=True, slots=True)
class NameChange:
    """``/nick NAME`` in the chat: the leave and the login that follow are one rename, which
    the view says in one line ("You are now NAME")."""

    old: str
    new: str


ViewRequest = Union[QuitRequested, ClearRequested, SearchRequested, NameChange, DoctorRequested]
"""What a typed line asks of the window, not of the chat."""

TypedEvent = Union[ClientEvent, ViewRequest]
"""What a typed line becomes: the core's events and the window's requests."""

PROTOCOL_TYPES = frozenset({"login", "msg", "list", "exit"})
"""Words that, followed by a comma, make a typed line a raw protocol line."""

HELP_TEXT = """\
Type a message and press Enter. Commands:
  /login NAME    join the chat (alone: the last name)
  /nick NAME     change your name (leave, join again)
  /list          who is in the chat
  /clear         empty this window (the chat goes on)
  /search WORDS  list the history's lines with WORDS (each the start of a
                 word; case and accents ignored)
  /doctor        find out why nobody can be heard, and what to do
  /leave         leave the chat; the window shows the chats to join or host
  /quit          leave the chat and close the window
  /help          this list
  //text         a line that starts with a slash
Raw lines work too: login,NAME  msg,TEXT  list,  exit,
Keys: Up/Down your earlier lines, Tab completes names,
PageUp/PageDown scroll, Ctrl+Home/Ctrl+End first/latest,
Shift+Up/Down select lines to copy with Ctrl+C, Ctrl+plus/minus zoom,
Ctrl+F find in the window (Enter/F3 older, Shift+Enter/Shift+F3 newer,
"Search the history" lists older lines, Esc closes)."""


def pasted_lines(text: str) -> list[str]:
    """The messages a multi-line paste becomes: one per non-blank line, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def split_to_fit(text: str, room: int) -> list[str]:
    """``text`` as lines of at most ``room`` UTF-8 bytes each, split between words where it
    can be (a word longer than a line is cut between characters, never inside one)."""
    parts: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if len(candidate.encode()) <= room:
            current = candidate
            continue
        if current:
            parts.append(current)
        while len(word.encode()) > room:
            cut = len(word.encode()[:room].decode("utf-8", errors="ignore"))
            parts.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        parts.append(current)
    return parts


def said_texts(line: str) -> list[str] | None:
    """What a typed ``line`` says as chat: each line of a paste (taken literally), ``//x``
    as ``/x``, plain text as it is; None for a slash command or a raw protocol line, which
    do something else.  typed_line's reading, and the input's byte counter's."""
    lines = pasted_lines(line)
    if len(lines) != 1:
        return lines
    one = lines[0]
    if one.startswith("//"):
        return [one[1:]]
    if one.startswith("/"):
        return None
    kind, sep, _ = one.partition(",")
    if sep and kind.strip().lower() in PROTOCOL_TYPES:
        return None
    return [one]


def asked_name(client: ClientCore, line: str) -> str | None:
    """The name a typed ``/login NAME``, ``/nick NAME`` or ``login,NAME`` asks for (a bare
    /login: the last name), cleaned as it would be sent; None for anything else, or a name
    that would be refused anyway (typed_line says why)."""
    if said_texts(line) is not None:
        return None
    line = line.strip()
    if line.startswith("/"):
        word, _, rest = line[1:].partition(" ")
        if word.lower() not in ("login", "nick"):
            return None
        name = rest.strip() or (client.last_user if word.lower() == "login" else None)
    else:
        kind, _, name = line.partition(",")
        if kind.strip().lower() != "login":
            return None
    try:
        return clean_name(name) if name else None
    except LocalProtocolError:
        return None


def typed_line(client: ClientCore, line: str, now: float) -> Sequence[TypedEvent]:
    """Carry out one line typed (or several pasted) by the user."""
    texts = said_texts(line)
    if texts is None:
        line = line.strip()
        if line.startswith("/"):
            return _slash_command(client, line, now)
        return _protocol_line(client, line, now)
    if len(texts) > 1 and client.state is not ClientState.IN_CHAT:
        return client.say(texts[0], now)  # a paste: the same "log in first" error, once
    return [event for text in texts for event in client.say(text, now)]


_VIEW_WORDS: dict[str, type[ClearRequested | DoctorRequested]] = {
    "clear": ClearRequested,
    "doctor": DoctorRequested,
}
"""Slash commands that only ask the window for something, with nothing after them."""


_CORE_WORDS: dict[str, Callable[[ClientCore, float], Sequence[TypedEvent]]] = {
    "list": ClientCore.request_list,
    "leave": ClientCore.leave,  # back to the start screen (a trial: only exit, did that)
}
"""Slash commands that are one request of the core, with nothing after them."""


def _slash_command(client: ClientCore, line: str, now: float) -> Sequence[TypedEvent]:
    word, _, rest = line[1:].partition(" ")
    word = word.lower()
    if word == "login":
        name = rest.strip() or client.last_user
        if not name:
            return [LocalError(Reason.USAGE, "type /login followed by your name")]
        return client.login(name, now)
    if word == "nick":
        return _change_name(client, rest.strip(), now)
    if word in _CORE_WORDS:
        return _CORE_WORDS[word](client, now)
    if word in _VIEW_WORDS:
        return [_VIEW_WORDS[word]()]
    if word == "search":
        if not rest.strip():
            return [LocalError(Reason.USAGE, "type /search followed by the words to find")]
        return [SearchRequested(rest.strip())]
    if word in ("quit", "exit"):
        return [*client.close(now), QuitRequested()]
    if word == "help":
        return [Notice(HELP_TEXT)]
    return [LocalError(Reason.UNKNOWN_COMMAND, f"unknown command /{word}; try /help")]


def _change_name(client: ClientCore, name: str, now: float) -> Sequence[TypedEvent]:
    """``/nick NAME``: the protocol has no rename, so leave and join again as NAME."""
    if not name:
        return [LocalError(Reason.USAGE, "type /nick followed by the new name")]
    if client.state is not ClientState.IN_CHAT:
        return client.login(name, now)
    try:
        name = clean_name(name)
    except LocalProtocolError as exc:
        return [error_event(exc)]
    if name == client.user:
        return [Notice(f"You are already in the chat as {name}.")]
    old = client.user or ""
    return [NameChange(old, name), *client.close(now), *client.login(name, now)]


def _protocol_line(client: ClientCore, line: str, now: float) -> Sequence[TypedEvent]:
    try:
        message = parse_client(line.encode())
    except RemoteProtocolError as exc:
        return [error_event(exc)]
    if isinstance(message, LoginRequest):
        return client.login(message.user, now)
    if client.state is not ClientState.IN_CHAT:
        return client.send_unwelcomed(message, now)
    if isinstance(message, ChatMessage):
        return client.say(message.text, now)
    if isinstance(message, ListRequest):
        return client.request_list(now)
    return client.leave(now)
