"""What the chat view shows for each ClientCore event: no Qt here, tested alone.

The bridge hands a batch of events to ``Presenter.present`` and applies the
``ViewUpdate`` it gets back (append the lines, set the marks, replace the
roster, emit its signals).  What the core sends never comes here: the driver
sends it (driver.py).  Every piece of foreign text
(names, lines, raw datagrams, addresses) goes through ``protocol_lib.display``
here, once, so nothing that reaches the view can hide, reorder or restyle
itself; the QML side shows it as plain text.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import assert_never

from protocol_lib import (
    ANY_INTERFACE,
    ClientState,
    DeliveryFailed,
    IncomingMessage,
    LocalError,
    MessageDelivered,
    Notice,
    OutgoingMessage,
    RosterChanged,
    SendDatagram,
    SessionEnded,
    StateChanged,
    UnrecognisedLine,
    UserJoined,
    UserLeft,
)
from protocol_lib.client_events import (
    ChatSilence,
    DeliveryUnknown,
    MessageSent,
    MessageStatus,
    NameTakenOver,
    NotFromServer,
    RelayStyle,
    RelayStyleLearned,
    UserListShown,
)
from protocol_lib.display import shown_name, shown_text
from protocol_lib.reasons import Reason

from .cli import ClientOptions
from .commands import (
    ClearRequested,
    DoctorRequested,
    NameChange,
    QuitRequested,
    SearchRequested,
    TypedEvent,
)

RAW_DISPLAY_CHARS = 2000  # a foreign server may send 64 KiB in one datagram: show the start


class LineKind(StrEnum):
    """What a line of the view is; the view draws each kind its own way."""

    OUT = "out"  # ours (->)
    IN = "in"  # someone else's (<-)
    RAW = "raw"  # from the server, but not this protocol as we know it
    FOREIGN = "foreign"  # from a host that is not the server: shown, never believed
    SYSTEM = "system"  # what the window says (joins, leaves, state)
    ERROR = "error"  # what went wrong


# What people sent (shown in bubbles, found by a search), not what the window says.
SAID = frozenset({LineKind.OUT, LineKind.IN, LineKind.RAW, LineKind.FOREIGN})


@dataclass(slots=True)
class ChatLine:
    """One line of the message view, already safe to display."""

    kind: LineKind
    line_text: str
    sender: str = ""  # FOREIGN: the source address
    timestamp: str = ""
    status: MessageStatus | None = None  # OUT only
    message_id: int = 0
    mention: bool = False  # IN: the line names the user (highlighted, notified)
    # Kept in the history: the conversation (lines, joins and leaves, what other servers
    # and hosts sent), not what the window says about itself (states, notes, errors).
    kept: bool = True
    at: float = 0.0  # when (unix time): the view's day separators and groups go by it
    seq: int = field(default=0, compare=False)  # its number in the view (MessageModel sets it)

    @property
    def links(self) -> list[str]:
        """The http(s) addresses in the text: the line's menu offers to open or copy them."""
        if "http" not in self.line_text or self.kind not in (LineKind.IN, LineKind.OUT):
            return []
        return links_in(self.line_text)

    @property
    def linked_text(self) -> str:
        """The text with its addresses clickable where they stand, "" for a line with none
        (the view shows those as plain text, as it shows every other line)."""
        links = self.links
        return linked_text(self.line_text, links) if links else ""


@dataclass(slots=True)
class ViewUpdate:
    """Everything one batch of events changes in the view."""

    lines: list[ChatLine] = field(default_factory=list)
    statuses: list[tuple[int, MessageStatus]] = field(default_factory=list)  # lines shown
    roster_changed: bool = False  # the view reads ClientCore.roster once per batch
    state_changed: bool = False
    incoming: int = 0  # chat lines from others (the window counts them while inactive)
    mentions: list[ChatLine] = field(default_factory=list)  # lines that name the user
    quit: bool = False
    clear: bool = False  # empty the view before this batch's lines
    search: str | None = None  # words to find in the kept history
    doctor: bool = False  # look for why nobody can be heard (/doctor, or no welcome came)
    foreign: list[str] = field(default_factory=list)  # hosts not the server that sent to the group
    failed: bool = False  # a line of this batch says that something went wrong
    relay_learned: RelayStyle | None = None  # seen what the server does: remember it
    silence_changed: bool = False  # the chat stopped answering, or answers again
    renamed: tuple[str, str] | None = None  # (old, new): a /nick welcomed; the history follows


def shorten(text: str) -> str:
    """The start of a very long raw line, saying how much is left out."""
    if len(text) <= RAW_DISPLAY_CHARS:
        return text
    return f"{text[:RAW_DISPLAY_CHARS]}\u2026 ({len(text) - RAW_DISPLAY_CHARS:,} more characters)"


def time_of_day(at: float) -> str:
    """The one time format of the view: hours and minutes (the day has its separator)."""
    return f"{datetime.fromtimestamp(at):%H:%M}"


def day_of(at: float) -> str:
    """A day separator's text, e.g. "Thursday 3 December 2026" (no %-d: glibc only)."""
    when = datetime.fromtimestamp(at)
    return f"{when:%A} {when.day} {when:%B %Y}"


def arrivals_sentence(first: list[str], count: int, verb: str) -> str:
    """One line for ``count`` people who joined (or left) one after another: the first
    names (already shown safe) and how many more, so a flood of logins is one line."""
    if count == 1:
        return f"{first[0]} {verb}"
    if count == 2:
        return f"{first[0]} and {first[1]} {verb}"
    if count == 3:
        return f"{first[0]}, {first[1]} and {first[2]} {verb}"
    return f"{first[0]}, {first[1]} and {count - 2:,} others {verb}"


def roster_sentence(users: Iterable[str]) -> str:
    names = [shown_name(u) for u in users]
    return f"In the chat ({len(names)}): {', '.join(names)}" if names else "Nobody is in the chat."


class Presenter:
    """Turns ClientCore events into a ViewUpdate; one clock read per batch."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now
        # A /nick under way (old name, new name): its leave and login are said as one line
        # once the new name is welcomed; a failed login ends it, said as it is.
        self.renaming: tuple[str, str] | None = None
        self.renaming_left = False  # the old name has been left (the first half is done)
        self.last_me: str | None = None  # the name we were last in the chat as

    def system(self, text: str, kind: LineKind = LineKind.SYSTEM) -> ChatLine:
        """A line of our own (not foreign text) for the view; not kept in the history."""
        at = self._now()
        return ChatLine(kind, text, "", time_of_day(at), kept=False, at=at)

    def dropped(self, count: int) -> ChatLine:
        """Datagrams the view could not keep up with: say so, and what may be stale."""
        return self.system(
            f"{count:,} incoming datagram(s) were dropped: they arrived faster than this "
            "window can show them. Lines may be missing and the user list may be out of "
            "date (/list refreshes it).",
            LineKind.ERROR,
        )

    def present(self, events: Sequence[TypedEvent], me: str | None) -> ViewUpdate:
        batch = _Batch(self._now(), me, self)  # one clock read: a flood arrives in a second
        if me is not None:
            self.last_me = me
        for event in events:
            if type(event) is IncomingMessage:  # what a flood is made of: one check
                batch.incoming(event)
                continue
            match event:
                case (
                    IncomingMessage()
                    | OutgoingMessage()
                    | SendDatagram()
                    | MessageSent()
                    | MessageDelivered()
                    | DeliveryFailed()
                    | DeliveryUnknown()
                ):
                    batch.message(event)
                case UserJoined() | UserLeft() | RosterChanged() | UserListShown():
                    batch.people(event)
                case (
                    StateChanged()
                    | NameTakenOver()
                    | RelayStyleLearned()
                    | QuitRequested()
                    | NameChange()
                    | ClearRequested()
                    | SearchRequested()
                    | DoctorRequested()
                    | ChatSilence()
                ):
                    batch.state_or_request(event)
                case (
                    LocalError() | Notice() | SessionEnded() | UnrecognisedLine() | NotFromServer()
                ):
                    batch.notice(event)
                case _:
                    assert_never(event)
        return batch.update


_MessageEvent = (
    IncomingMessage
    | OutgoingMessage
    | SendDatagram
    | MessageSent
    | MessageDelivered
    | DeliveryFailed
    | DeliveryUnknown
)
_PeopleEvent = UserJoined | UserLeft | RosterChanged | UserListShown
_StateOrRequest = (  # not session.SessionEvent (the server's machine)
    StateChanged | NameTakenOver | RelayStyleLearned
    | QuitRequested | ClearRequested | SearchRequested | NameChange | DoctorRequested | ChatSilence
)  # fmt: skip
_NoticeEvent = LocalError | Notice | SessionEnded | UnrecognisedLine | NotFromServer


class _Batch:
    """One batch of events becoming one ViewUpdate; each kind of event in its own method."""

    def __init__(self, at: float, me: str | None, presenter: Presenter) -> None:
        self.presenter = presenter
        self.update = ViewUpdate()
        self.at = at
        self.stamp = time_of_day(at)
        self.me = me
        self.staged: dict[int, ChatLine] = {}  # own lines of this batch, by message id
        # The last line of this batch, if it says who joined or left: (line, verb, the
        # first names, how many); the next join (or leave) is told in it.
        self.arrivals: tuple[ChatLine, str, list[str], int] | None = None

    def line(self, kind: LineKind, text: str, sender: str = "", kept: bool = False) -> None:
        """A line for the view; ``kept``: part of the conversation (the history keeps it)."""
        self.update.lines.append(ChatLine(kind, text, sender, self.stamp, kept=kept, at=self.at))
        if kind is LineKind.ERROR:
            self.update.failed = True

    def mark(self, message_id: int, status: MessageStatus) -> None:
        if message_id in self.staged:
            self.staged[message_id].status = status
        else:
            self.update.statuses.append((message_id, status))

    def incoming(self, event: IncomingMessage) -> None:
        """A line from someone else: what a flood is made of, so reached without a match."""
        sender, text = event.sender, event.text
        who = shown_name(sender) if sender else ""
        line = ChatLine(LineKind.IN, shown_text(text), who, self.stamp, at=self.at)
        if self.me and mentions(text, self.me):
            line.mention = True
            self.update.mentions.append(line)
        self.update.lines.append(line)
        self.update.incoming += 1

    def message(self, event: _MessageEvent) -> None:
        match event:
            case IncomingMessage():
                self.incoming(event)
            case SendDatagram():
                pass  # sent by the driver (driver.py), never shown: it does not reach here
            case OutgoingMessage(message_id, text, status):
                me = shown_name(self.me or "")
                line = ChatLine(
                    LineKind.OUT, shown_text(text), me, self.stamp, status, message_id, at=self.at
                )
                self.staged[message_id] = line
                self.update.lines.append(line)
            case MessageSent(message_id):
                self.mark(message_id, MessageStatus.PENDING)
            case MessageDelivered(message_id):
                self.mark(message_id, MessageStatus.DELIVERED)
            case DeliveryFailed(message_ids):
                for message_id in message_ids:
                    self.mark(message_id, MessageStatus.FAILED)
            case DeliveryUnknown(message_ids):
                for message_id in message_ids:
                    self.mark(message_id, MessageStatus.UNCONFIRMED)

    def people(self, event: _PeopleEvent) -> None:
        match event:
            case UserJoined(user):
                self.update.roster_changed = True
                if user != self.me:  # our own login says "You are in the chat as ..."
                    self.arrived(user, "joined")
            case UserLeft(user):
                self.update.roster_changed = True
                renaming = self.presenter.renaming
                if renaming is not None and user == renaming[0]:
                    pass  # our old name: said as a rename
                elif user != self.me and user != self.presenter.last_me:
                    self.arrived(user, "left")  # our own: "The server ended your session"
            case RosterChanged():
                self.update.roster_changed = True
            case UserListShown(users):
                self.line(LineKind.SYSTEM, roster_sentence(users))

    def arrived(self, user: str, verb: str) -> None:
        """``user`` joined (or left): in the line of the joins (leaves) just before, if
        the last line is one, so a burst of logins is one line, not a thousand."""
        lines = self.update.lines
        told = self.arrivals
        if told is not None and told[1] == verb and lines and lines[-1] is told[0]:
            line, _, first, count = told
            if len(first) < 3:
                first.append(shown_name(user))
            line.line_text = arrivals_sentence(first, count + 1, verb)
            self.arrivals = (line, verb, first, count + 1)
            return
        self.line(LineKind.SYSTEM, f"{shown_name(user)} {verb}", kept=True)
        self.arrivals = (lines[-1], verb, [shown_name(user)], 1)

    def state(self, state: ClientState, user: str | None) -> None:
        """A state of ours, said in one line; a rename (/nick) as one line for its two."""
        self.update.state_changed = True
        renaming = self.presenter.renaming
        if renaming is not None and state is not ClientState.LOGGED_OUT:
            if state is ClientState.IN_CHAT:  # the new name is welcomed
                self.presenter.renaming = None
                self.update.renamed = renaming
                old, new = (shown_name(name) for name in renaming)
                self.line(LineKind.SYSTEM, f"{old} is now {new} (you)", kept=True)
        elif renaming is not None and not self.presenter.renaming_left:
            self.presenter.renaming_left = True  # leaving the old name: part of the rename
        elif state is not ClientState.LOGGING_IN:  # the status line says that one
            self.presenter.renaming = None  # the new name was not welcomed
            self.line(LineKind.SYSTEM, state_sentence(state, user))

    def state_or_request(self, event: _StateOrRequest) -> None:
        if isinstance(event, RelayStyleLearned):
            self.update.relay_learned = event.style
        match event:
            case StateChanged(state, user):
                self.state(state, user)
            case NameTakenOver(user):
                self.line(
                    LineKind.ERROR,
                    f"Another client logged in as {shown_name(user)} and took the name over: "
                    "this window is no longer in the chat. Type /login to take it back.",
                )
            case RelayStyleLearned(RelayStyle.PLAIN, RelayStyle.ATTRIBUTED):
                self.line(
                    LineKind.SYSTEM,
                    "This server relays lines without their sender's name, unlike what was "
                    "known of it: lines from others are shown as they arrive from now on, and "
                    "names shown on earlier lines were read from their text.",
                )
            case RelayStyleLearned(RelayStyle.PLAIN):
                self.line(
                    LineKind.SYSTEM,
                    "This server relays lines without their sender's name: "
                    "lines from others are shown as they arrive, without a name.",
                )
            case NameChange() | QuitRequested() | ClearRequested() | SearchRequested():
                self.request(event)
            case DoctorRequested():
                self.update.doctor = True
            case ChatSilence(silent):
                self.update.silence_changed = True
                self.update.doctor |= silent  # the chat went quiet: look for why, at once

    def request(self, event: NameChange | QuitRequested | ClearRequested | SearchRequested) -> None:
        """What a typed command asks of the window."""
        match event:
            case NameChange(old, new):
                self.presenter.renaming = (old, new)
                self.presenter.renaming_left = False
            case QuitRequested():
                self.update.quit = True
            case ClearRequested():
                self.update.clear = True
            case SearchRequested(words):
                self.update.search = words

    def notice(self, event: _NoticeEvent) -> None:
        match event:
            case LocalError(reason, message):
                self.line(LineKind.ERROR, message)
                if reason is Reason.NO_WELCOME:  # nobody answered: look for why, at once
                    self.update.doctor = True
            case Notice(message):
                self.line(LineKind.SYSTEM, message)
            case SessionEnded(everyone):
                self.line(LineKind.SYSTEM, ended_words(everyone))
            case UnrecognisedLine(text, _):
                self.line(LineKind.RAW, shorten(shown_text(text)), kept=True)
            case NotFromServer(source, text, port):
                if port is None and text.startswith(("welcome,", "msg,", "bye,", "list,")):
                    self.update.foreign.append(source)  # the doctor's --server-source
                where = source if port is None else f"{source}:{port}"  # the server's host
                self.line(LineKind.FOREIGN, shorten(shown_text(text)), shown_text(where), kept=True)


_LINK = re.compile(r"https?://[^\s<>\"'\u2068\u2069]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


def links_in(text: str, limit: int = 20) -> list[str]:
    """Up to ``limit`` http(s) addresses in ``text``, without trailing punctuation."""
    found: list[str] = []
    for _, _, link in _link_spans(text):
        if link not in found:
            found.append(link)
        if len(found) == limit:
            break
    return found


def _link_spans(text: str) -> Iterator[tuple[int, int, str]]:
    for match in _LINK.finditer(text):
        link = match.group(0).rstrip(_TRAILING)
        if len(link) > len("https://"):
            yield match.start(), match.start() + len(link), link


def linked_text(text: str, links: list[str]) -> str:
    """``text`` as Qt's StyledText with each of ``links`` an anchor where it stands.

    Everything else is escaped, so the line stays text whatever it contains; an anchor's
    href is the link's index in ``links`` (the view opens ``links[i]``), never the address
    itself, which StyledText would take from the attribute without undoing its escapes.
    Runs of spaces, a leading one and no-break spaces are kept (StyledText, like HTML,
    folds or drops them)."""
    parts: list[str] = []
    done = 0
    for start, end, link in _link_spans(text):
        if link not in links:
            continue
        anchor = f'<a href="{links.index(link)}">{_styled(link)}</a>'
        parts += [_styled(text[done:start], first=not parts), anchor]
        done = end
    parts.append(_styled(text[done:], first=not parts))
    return "".join(parts)


def _styled(text: str, first: bool = False) -> str:
    escaped = html.escape(text, quote=True).replace("\t", "    ").replace("\u00a0", "&nbsp;")
    if " " not in escaped:
        return escaped
    # a space after a space, or the line's first (StyledText drops both): a fixed one
    escaped = re.sub(r"(?<= ) ", "&nbsp;", escaped)
    return "&nbsp;" + escaped[1:] if first and escaped.startswith(" ") else escaped


def announcement(update: ViewUpdate) -> str:
    """What a screen reader says for a batch of lines from others: the last, and how many."""
    incoming = [line for line in update.lines if line.kind is LineKind.IN]
    if not incoming:
        return ""
    last = incoming[-1]
    said = f"{last.sender} says: {last.line_text}" if last.sender else last.line_text
    return said if len(incoming) == 1 else f"{len(incoming)} new lines. {said}"


def mentions(text: str, name: str) -> bool:
    """Whether ``text`` names ``name`` as a word of its own, case ignored.

    "bob," and "BOB!" do; "bobby" does not.
    """
    folded, wanted = text.casefold(), name.casefold()
    start = folded.find(wanted)
    while start >= 0:
        end = start + len(wanted)
        before = folded[start - 1] if start else " "
        after = folded[end] if end < len(folded) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return True
        start = folded.find(wanted, start + 1)
    return False


def window_title(options: ClientOptions, state: ClientState, user: str | None) -> str:
    """The window's title: who you are in the chat as, and where the chat is."""
    where = f"lanchat @ {options.server}:{options.port}"
    if options.title:  # the chat's own name (its record's: foreign text)
        where = f"{shown_text(options.title)} ({options.server}:{options.port})"
    if state is ClientState.IN_CHAT:
        return f"{shown_name(user or '')} \u2014 {where}"
    return f"{where} ({state.value})"


def ended_words(everyone: bool) -> str:
    """The window's words for a goodbye from the server that we did not ask for."""
    if everyone:
        return (
            "The chat has ended: the server said goodbye to everyone (it stopped, or its "
            "host ended the chat). If it starts again, join it from the list of chats or "
            "type /login."
        )
    return (
        "The server ended your session (it may be stopping or restarting). Type /login to "
        "join again."
    )


def status_line(
    options: ClientOptions, state: ClientState, user: str | None, note: str, silence: str = ""
) -> str:
    """The line under the input: server, group (and interface), state, and a note; a chat
    that went quiet says what is known of it instead of a state it cannot vouch for."""
    iface = "" if options.interface == ANY_INTERFACE else f" on {options.interface}"
    said = state.value
    if state is not ClientState.LOGGED_OUT and user:
        said += f" as {shown_name(user)}"
    if silence:
        said = silence
    # A chat on loopback reaches nobody else: said, as a trial's student took a chat of
    # one on his own computer for the class's chat.
    only_here = " (this computer only)" if options.server.startswith("127.") else ""
    parts = [f"Server {options.server}:{options.port}{only_here}",
             f"group {options.group}:{options.group_port}{iface}", said]  # fmt: skip
    if note:
        parts.append(note)
    return "  \u00b7  ".join(parts)


def state_sentence(state: ClientState, user: str | None) -> str:
    if state is ClientState.IN_CHAT:
        return f"You are in the chat as {shown_name(user or '')}."
    if state is ClientState.LOGGING_IN:
        return f"Logging in as {shown_name(user or '')}\u2026"
    return "You are not in the chat."
