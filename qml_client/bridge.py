"""The QObject the QML view talks to: properties, slots and signals, and nothing else.

As in Qt for Python's QML examples, the backend is a small facade.  Below it, each
tested on its own: the driver (``driver.py``: the ClientCore, its sockets, worker,
drain and timer, and the sends the core decides), the presenter (events to lines),
the line feed (``feed.py``: pacing into the model, the history), the search hits,
attention (the unread line, notifications) and the account (the login remembered,
the name held).  This class wires them: a batch from the driver is presented, its
lines go to the feed, and the view is told what changed.
"""

from __future__ import annotations

import dataclasses
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import Property, QObject, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtQml import QmlElement

from protocol_lib import ClientConfig, ClientCore, ClientState
from protocol_lib.client_events import error_event
from protocol_lib.display import shown_name
from protocol_lib.doctor import Findings, diagnose
from protocol_lib.errors import LocalProtocolError
from protocol_lib.io.doctor import probe
from protocol_lib.names import clean_name

from .account import Account
from .attention import Attention
from .chats import ChatFinder, typed_chat
from .cli import ClientOptions
from .commands import asked_name, said_texts, split_to_fit, typed_line
from .driver import Batch, ClientDriver
from .feed import LineFeed
from .history_store import HistoryStore
from .models import ChatsModel, MessageModel, UserModel
from .name_hold import NameHold
from .notify import Notifier
from .presenter import (
    ChatLine,
    LineKind,
    Presenter,
    ViewUpdate,
    announcement,
    status_line,
    window_title,
)
from .recall import InputRecall, PasteGate, complete_name
from .search_hits import SearchHits
from .settings import SettingsStore

if TYPE_CHECKING:
    from server_app.hosted import HostedServer

DOCTOR_JOIN = 5.0  # seconds a closing window waits for the doctor's probes (~3 s at most)

QML_IMPORT_NAME = "LanChatBackend"
QML_IMPORT_MAJOR_VERSION = 1


@QmlElement
class ChatBridge(QObject):
    """What the view can ask (``send``) and show (properties, models): Qt glue only.

    Decisions are ClientCore's; what they look like is the Presenter's.
    """

    # The cursor's blink period before a window at rest stopped it: the style hint is the
    # application's, so any window can give it back.
    _flash_time = 0

    stateChanged = Signal()
    statusChanged = Signal()
    quitRequested = Signal()
    incoming = Signal(int)  # chat lines from others in one batch (the window counts unread)
    announce = Signal(str)  # what a screen reader should say about a batch from others
    showRow = Signal(int)  # the view should bring this row into sight and select it (a hit)
    hitsChanged = Signal()  # the search bar's "2 of 7" moved
    searchOpened = Signal(str)  # /search WORDS typed: the search bar shows the words
    # A paste that waits for the user's yes (or a line too long for one message, split to
    # fit): how many lines, the first of them, and why the question is asked.
    pasteConfirmationNeeded = Signal(int, str, str, str)  # count, preview, why, title
    # /login or /nick to a name someone holds waits for the user's yes: the question.
    nameQuestion = Signal(str)
    # Join on a chat found on the network: the app opens a window on it (app.py).
    joinRequested = Signal(object)
    hostRequested = Signal(str)  # "Host a chat": the app starts our server and joins it
    hostingChanged = Signal()
    _doctorDone = Signal(object)  # the probe thread's findings, delivered in the GUI thread

    def __init__(
        self,
        options: ClientOptions,
        parent: QObject | None = None,
        config: ClientConfig | None = None,
        settings: SettingsStore | None = None,
        history: HistoryStore | None = None,
        notifier: Notifier | None = None,
        names: NameHold | None = None,
    ) -> None:
        super().__init__(parent)
        self.options = options
        self.open_url = QDesktopServices.openUrl  # replaced in tests: nothing is opened there
        self.driver = ClientDriver(options, self._show, config, self)
        self.presenter = Presenter()
        self._messages = MessageModel(self)
        self._users = UserModel(self)
        self.feed = LineFeed(self._messages, self.presenter, history, self._reader, self)
        self.hits = SearchHits(self._messages)
        self._messages.rowsInserted.connect(self._lines_added)
        # "2 of 7" as the view's lines come and go: worked out once, at most every 100 ms
        self._hit_place = (0, 0)
        self._place_timer = QTimer(self, singleShot=True, interval=100)
        self._place_timer.timeout.connect(self._hits_moved)
        self._messages.rowsRemoved.connect(self._lines_removed)
        self._messages.modelReset.connect(self._lines_removed)
        self.attention = Attention(self.presenter, notifier if options.notify else None,
                                   options.unread_line, self.feed.remove)  # fmt: skip
        self.account = Account(options, settings, names, self._in_chat_as, self)
        self._recall = InputRecall()
        self._status_note = ""
        self._paste = PasteGate()
        self._name_waiting: str | None = None  # a typed login that waits for the yes
        self._doctor: threading.Thread | None = None  # the doctor's probes, while they run
        # The last doctor's diagnosis keys (its paragraphs are lines): what the terminal
        # doctor prints in brackets, for scripts and tests.
        self.diagnoses: tuple[str, ...] = ()
        self._stopped = False  # the chat is silent and the doctor found nothing listening
        self._doctorDone.connect(self._diagnosed)
        self.hosted: HostedServer | None = None  # the server this window hosts, if any
        self._chats = ChatsModel(self)
        self.finder = ChatFinder(self._chats, self)  # the chats announced on this network

    @property
    def core(self) -> ClientCore:
        return self.driver.core

    @property
    def notifier(self) -> Notifier | None:
        return self.attention.notifier

    # --- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        """Show the kept history, open the sockets, start the worker, log in if asked;
        look for the chats announced on this network (the start view lists them)."""
        self.feed.show_earlier()
        self.finder.start()  # in a thread; off (LANCHAT_NO_MDNS) or no LAN: nothing found
        problem = self.driver.start()
        if problem is not None:
            self.report(problem)
            self._status_note = "network error"
            self.statusChanged.emit()
            return
        if self.options.user:  # a login at start says itself, in one line
            self.send(f"/login {self.options.user}")
            return
        self.note(
            "Welcome to lanchat. Type your name above and press Join (or /login NAME "
            "here; /help for commands)."
        )
        if self.account.elsewhere is not None:
            self.note(
                f"Another window of yours is in this chat as {shown_name(self.account.elsewhere)}"
                ", so this one does not log in (that would take the name over). "
                "Type another name above and press Join."
            )

    @Slot()
    def shutdown(self, say_exit: bool = True) -> None:
        """Say exit if in the chat, stop and join the worker, close the sockets, write the
        history, let the name go.  Connected to QGuiApplication.aboutToQuit: it must finish
        before the application object goes away, or the worker's signal outlives its source.
        ``say_exit=False`` leaves like a crashed client (tests of takeover)."""
        if self.driver.closed:
            return
        self.driver.shutdown(say_exit)
        self.restCursor(False)  # the blink is the application's: as it was
        if self._doctor is not None:  # its signal must not outlive the application
            self._doctor.join(DOCTOR_JOIN)
        self.finder.close()  # zeroconf's thread signals this window: it stops first
        self.feed.close()
        self.account.hold_name()  # closed: lets the name go

    @property
    def worker_alive(self) -> bool:
        return self.driver.worker_alive

    # --- what QML calls ------------------------------------------------------

    @Slot(str, result=bool)
    def send(self, line: str) -> bool:
        """Handle a typed line; True if the input field may be cleared.

        A paste of many lines waits (recall.PasteGate): the view asks the user
        (``pasteConfirmationNeeded``) and calls ``confirmPaste`` or ``cancelPaste``.
        """
        count = self._paste.holds(line)
        if count:
            why = (
                f"The pasted text has {count} lines. Each line is sent as a message of its "
                "own, at the pace the server allows."
            )
            if self._paste.loses_layout():
                why += " Indentation and blank lines are not sent: a chat line cannot start "
                why += "with a space."
            title = f"Send {count} lines?"
            self.pasteConfirmationNeeded.emit(count, self._paste.preview(), why, title)
            return False
        split = self._split_offer(line)
        if split is not None:
            count = self._paste.hold(split)
            why = (
                f"One message holds at most {self.core.text_room():,} bytes here, and this "
                f"text has {_longest(line):,}. Send it as {count} messages, split between "
                "words?"
            )
            title = f"Send it as {count} messages?"  # one message too long: not "lines"
            self.pasteConfirmationNeeded.emit(count, _parts_preview(split), why, title)
            return False
        name = asked_name(self.core, line)
        question = name and self.account.name_question(name, self.core.user, self.core.roster)
        if question:
            self._name_waiting = line
            self.nameQuestion.emit(question)
            return False
        return self._send(line)

    def _split_offer(self, line: str) -> list[str] | None:
        """A chat text too long for one message, in the chat: the lines it would fit in."""
        texts = said_texts(line)
        room = self.core.text_room()
        if self.core.state is not ClientState.IN_CHAT or not texts:
            return None
        if all(len(text.encode()) <= room for text in texts):
            return None
        return [part for text in texts for part in split_to_fit(text, room)]

    @Slot(result=bool)
    def confirmName(self) -> bool:
        """The user agreed to ask for a name someone holds (``nameQuestion``)."""
        line, self._name_waiting = self._name_waiting, None
        return self._send(line) if line is not None else False

    @Slot()
    def cancelName(self) -> None:
        self._name_waiting = None

    @Slot(result=bool)
    def confirmPaste(self) -> bool:
        """The user agreed to send the waiting paste, one message per line."""
        line = self._paste.release()
        return self._send(line) if line is not None else False

    @Slot()
    def cancelPaste(self) -> None:
        self._paste.release()

    def _send(self, line: str) -> bool:
        self._recall.add(line)
        return self.driver.act(typed_line(self.core, line, time.monotonic()))

    @Slot(str, result=bool)
    def openLink(self, url: str) -> bool:
        """Open an http(s) address from a line in the desktop's browser; nothing else opens."""
        if not url.lower().startswith(("http://", "https://")):
            return False
        return self.open_url(QUrl(url))

    @Slot(int, int)
    def copyLines(self, first: int, last: int) -> None:
        """Put lines ``first``..``last`` of the view on the clipboard, one per line."""
        QGuiApplication.clipboard().setText(self._messages.as_text(first, last))

    @Slot(str)
    def copyText(self, text: str) -> None:
        """Put a chat line on the clipboard (the view's right-click menu)."""
        QGuiApplication.clipboard().setText(text)

    @Slot(str, result=str)
    def completeName(self, text: str) -> str:
        """Tab: the last word completed to a name in the chat."""
        return complete_name(text, self.core.roster, self.core.user)

    @Slot(str, result=int)
    def bytesLeft(self, text: str) -> int:
        """Bytes the longest chat line ``text`` says may still grow by (negative: over the
        limit), for the counter the input shows near the limit; commands are not counted."""
        return self.core.text_room() - _longest(text)

    @Slot(result=str)
    def previousLine(self) -> str:
        """Up arrow: the line typed before the one shown."""
        return self._recall.previous()

    @Slot(result=str)
    def nextLine(self) -> str:
        """Down arrow: the line typed after the one shown (empty past the last)."""
        return self._recall.next()

    @Slot(bool)
    def setWindowActive(self, active: bool) -> None:
        """The view says whether the window has the focus (for the unread line, notices)."""
        self.attention.set_active(active)

    @Slot(result=int)
    def nextHit(self) -> int:
        """F3, Enter in the search bar: the next older line of the last search that is in
        the view (newest first, cycling); its row, or -1."""
        self.feed.flush()
        return self._show_hit(self.hits.next_row())

    @Slot(result=int)
    def previousHit(self) -> int:
        """Shift+F3, Shift+Enter in the search bar: the next newer line (cycling)."""
        self.feed.flush()
        return self._show_hit(self.hits.previous_row())

    @Slot(str, result=int)
    def findInView(self, words: str) -> int:
        """The search bar's words changed: the lines in the view with all of them (each the
        start of a word, case and Latin accents ignored: search_hits); the newest is
        shown.  How many; none for no words."""
        self.feed.flush()
        self.hits.find(words)
        self._show_hit(self.hits.next_row())
        return self.hits.count

    def _lines_added(self, _parent: object, first: int, last: int) -> None:
        """New lines while the search bar is open: those with its words are counted."""
        if self.hits.added(first, last):
            self._hits_moved_soon()

    def _lines_removed(self, *_args: object) -> None:
        """Lines left the view (the scrollback, /clear): hits among them are not counted."""
        if self.hits.count:
            self._hits_moved_soon()

    def _hits_moved_soon(self) -> None:
        """Within 100 ms, not at every batch (a running timer is not restarted: under a
        flood it would never fire)."""
        if not self._place_timer.isActive():
            self._place_timer.start()

    def _show_hit(self, row: int) -> int:
        if row >= 0:
            self.showRow.emit(row)
        self._hits_moved()
        return row

    def _hits_moved(self) -> None:
        self._place_timer.stop()
        self._hit_place = self.hits.position()
        self.hitsChanged.emit()

    @Slot(str)
    def searchHistory(self, words: str) -> None:
        """The search bar's "Search the history": what /search WORDS does (the history's
        lines listed as the last line, shown), without the words in the input's recall."""
        if words.strip():
            self.feed.flush()
            self.feed.add(self._search(words.strip()), False)

    hitNumber = Property(int, lambda self: self._hit_place[0], notify=hitsChanged)
    hitCount = Property(int, lambda self: self._hit_place[1], notify=hitsChanged)
    keepsHistory = Property(bool, lambda self: self.feed.history is not None, constant=True)

    messages = Property(QObject, lambda self: self._messages, constant=True)
    users = Property(QObject, lambda self: self._users, constant=True)
    chats = Property(QObject, lambda self: self._chats, constant=True)
    # Where this window's own server is (what a plain /login joins).
    serverAddress = Property(
        str, lambda self: f"{self.options.server}:{self.options.port}", constant=True
    )

    @Slot(str, str)
    def hostAs(self, title: str, name: str) -> None:
        """The start screen's Host a chat: as ``name`` ("": the window's name)."""
        if self._named(name):
            self.host(title)

    @Slot(str)
    def host(self, title: str) -> None:
        """Host a chat on this machine (the app starts the server, then a window on it)."""
        name = self.core.last_user or self.options.user
        default = f"{name}'s chat" if name else f"lanchat on {socket.gethostname()}"
        self.hostRequested.emit(title.strip() or default)

    def set_hosting(self, hosted: HostedServer | None) -> None:
        self.hosted = hosted
        self.finder.hosting((self.options.server, self.options.port) if hosted else None)
        self.hostingChanged.emit()

    def end_hosting(self) -> None:
        """The chat this window hosts ends (bye for everyone); nothing if it hosts none."""
        hosted = self.hosted
        if hosted is not None:
            self.set_hosting(None)
            hosted.stop()

    # A web gateway announced with this chat (or started with the chat this window hosts):
    # "Invite phones" shows its address and a QR code of it, served by the gateway.
    inviteUrl = Property(str, lambda self: self.options.web_url, constant=True)

    # This window hosts the chat: closing it ends the chat for everyone (asked first).
    hosting = Property(bool, lambda self: self.hosted is not None, notify=hostingChanged)

    @Slot(result=int)
    def hostedUsers(self) -> int:
        """How many are in the chat this window hosts (said when asking before closing)."""
        return self.hosted.users if self.hosted is not None else 0

    @Slot(bool)
    def restCursor(self, resting: bool) -> None:
        """Stop the text cursor's blinking after a while without typing (as GTK does), and
        start it again at the next key: a blinking cursor woke the window 4 times a second."""
        hints = QGuiApplication.styleHints()
        if resting and hints.cursorFlashTime() > 0:
            ChatBridge._flash_time = hints.cursorFlashTime()  # the application's, for all
            hints.setCursorFlashTime(0)
        elif not resting and hints.cursorFlashTime() == 0 and ChatBridge._flash_time:
            hints.setCursorFlashTime(ChatBridge._flash_time)

    @Slot(int)
    def join(self, row: int) -> None:
        """Join the chat found at ``row`` of ``chats``: the app opens a window on it."""
        self.joinAs(row, "")

    @Slot(int, str)
    def joinAs(self, row: int, name: str) -> None:
        """The start screen's Join beside a chat found: as ``name`` ("": the name the
        window would log in as anyway)."""
        record = self._chats.record(row)
        if record is not None and self._named(name):
            self.joinRequested.emit(record)

    @Slot(str, str)
    def joinAddress(self, address: str, name: str) -> None:
        """The start screen's address field: the chat there, on this window's group."""
        record = typed_chat(address, self.options.group, self.options.group_port)
        if isinstance(record, str):
            self.report(record)
        elif self._named(name):
            self.joinRequested.emit(record)

    def _named(self, name: str) -> bool:
        """The window that joins logs in as ``name``; False (said) if it cannot be one."""
        if not name.strip():
            return True
        try:
            name = clean_name(name)
        except LocalProtocolError as exc:
            self.report(f"Not a name: {error_event(exc).message}.")
            return False
        self.options = dataclasses.replace(self.options, user=name)
        return True

    # The name the start screen offers: the last one this window used, or asked for, or
    # the one remembered from the last visit.
    suggestedName = Property(
        str, lambda self: self.core.last_user or self.options.user or "", notify=stateChanged
    )

    # shown to people, not compared
    state = Property(str, lambda self: self.core.state.value, notify=stateChanged)
    alertWanted = Property(bool, lambda self: self.options.alert, constant=True)
    inChat = Property(
        bool, lambda self: self.core.state is ClientState.IN_CHAT, notify=stateChanged
    )
    loggingIn = Property(
        bool, lambda self: self.core.state is ClientState.LOGGING_IN, notify=stateChanged
    )
    user = Property(str, lambda self: shown_name(self.core.user or ""), notify=stateChanged)
    title = Property(
        str, lambda self: window_title(self.options, self.core.state, self.core.user),
        notify=stateChanged,
    )  # fmt: skip
    status = Property(
        str,
        lambda self: status_line(
            self.options, self.core.state, self.core.user, self._status_note, self._silence()
        ),
        notify=statusChanged,
    )
    answering = Property(bool, lambda self: not self.core.silent, notify=statusChanged)

    def _silence(self) -> str:
        """What is known now of a chat that went quiet: the doctor's verdict, when it has
        one, else that it does not answer ("" while it does)."""
        if not self.core.silent:
            return ""
        if self._stopped:
            return f"The server at {self.options.server}:{self.options.port} has stopped"
        return "The chat is not answering"

    @property
    def message_model(self) -> MessageModel:
        return self._messages

    @property
    def user_model(self) -> UserModel:
        return self._users

    # --- a batch from the driver, to the view ----------------------------------

    def _show(self, batch: Batch) -> bool:
        """Present one batch and show it: lines, marks, roster, state, requests; False if
        a line of it says that something went wrong."""
        update = self.presenter.present(batch.events, self.core.user)
        lines = [self.presenter.system(text, LineKind.ERROR) for text in batch.problems]
        if batch.dropped:
            lines.append(self.presenter.dropped(batch.dropped))
        lines += self.attention.marker(update) + update.lines
        lines += [self.presenter.system(text, LineKind.ERROR) for text in batch.send_failures]
        lines += self._requests(update)
        self.feed.add(lines, batch.paced and not update.state_changed)
        if update.statuses:
            self.feed.flush()  # a mark goes on a line the view has
        for message_id, status in update.statuses:
            self._messages.set_status(message_id, status)
        if update.incoming:
            self.incoming.emit(update.incoming)
            self.announce.emit(announcement(update))
        self.attention.notify(update)
        if update.roster_changed or update.state_changed:
            self._users.set_users(tuple(self.core.roster), self.core.user)
        if update.silence_changed:
            self._stopped = False
        if update.state_changed:
            self._status_note = ""
            self.stateChanged.emit()
            self.statusChanged.emit()
        elif update.silence_changed:
            self.statusChanged.emit()
        if update.quit:
            QTimer.singleShot(0, self.quitRequested.emit)
        return not update.failed

    def _requests(self, update: ViewUpdate) -> list[ChatLine]:
        """What the batch asks beyond its lines: the login remembered and the name held
        (a change of state), the view emptied (/clear), a search (/search); the lines
        they add."""
        lines = self._account_requests(update)
        for source in update.foreign:  # a server on our group that is not ours: offered
            opts = self.options
            self.finder.heard(source, opts.port, opts.group, opts.group_port)
        if update.doctor:
            lines += self._start_doctor()
        if update.clear or update.search is not None:
            self.feed.flush()  # the lines before the request, in the view first
        if update.clear:
            self._messages.clear()
        if update.search is not None:
            lines += self._search(update.search)
        return lines

    def _search(self, words: str) -> list[ChatLine]:
        """The history's lines with ``words``, as one listing line, shown (selected) once in
        the view; the search bar opens with the words and counts the view's lines
        (Enter: the newest)."""
        self.hits.find(words)
        self.searchOpened.emit(words)
        QTimer.singleShot(0, self._show_listing)
        return self.feed.search(words)

    def _show_listing(self) -> None:
        self.feed.flush()
        self.showRow.emit(self._messages.rowCount() - 1)
        self._hits_moved()

    def _account_requests(self, update: ViewUpdate) -> list[ChatLine]:
        """A welcome remembered (and that name's history shown), the name held or let go,
        a relay style seen remembered; a line for each problem."""
        problems: list[str | None] = []
        if update.renamed is not None:  # before show_earlier: the same conversation
            self.feed.renamed(*update.renamed)
        if update.state_changed:
            if self.core.state is ClientState.IN_CHAT:
                problems.append(self.account.remember_login())
                self.feed.show_earlier()  # a name this window had not shown: its conversation
            self.account.hold_name()
        if update.relay_learned is not None:
            problems.append(self.account.remember_relay(update.relay_learned))
        return [self.presenter.system(p, LineKind.ERROR) for p in problems if p is not None]

    def _start_doctor(self) -> list[ChatLine]:
        """Probe the chat in a thread (about 2 s); the diagnoses come as lines after."""
        if self._doctor is not None:
            return []
        opts = self.options
        started = time.monotonic()  # the core's clock (driver.py)
        self.driver.act(self.core.probe(started))  # the window's own session asks too

        def run() -> None:
            findings = probe(opts.server, opts.port, opts.group, opts.group_port, opts.interface)
            self._doctorDone.emit((findings, started))

        self._doctor = threading.Thread(target=run, name="doctor", daemon=True)
        self._doctor.start()
        return [self.presenter.system("Looking for why (about 2 s)\u2026")]

    @Slot(object)
    def _diagnosed(self, probed: tuple[Findings, float]) -> None:
        """The probes are back: what this window heard while they ran too (what it heard
        before says nothing of a firewall put up since), then one paragraph a cause."""
        findings, started = probed
        self._doctor = None
        if self.driver.closed:
            return
        findings = dataclasses.replace(
            findings,
            heard_group=findings.heard_group or self.core.heard_since(started),
            other_sources=tuple(
                dict.fromkeys([*findings.other_sources, *self.finder.heard_sources])
            ),
        )
        diagnoses = diagnose(findings, sys.platform)
        self.diagnoses = tuple(d.key for d in diagnoses)
        self.feed.add([
            self.presenter.system(
                d.paragraph(), LineKind.SYSTEM if d.key == "fine" else LineKind.ERROR
            )
            for d in diagnoses
        ])  # fmt: skip
        if self.core.silent and any(d.key == "refused" for d in diagnoses):
            self._stopped = True
            self.statusChanged.emit()

    def report(self, problem: str) -> None:
        """Show a problem of ours (not from the network) as a red line."""
        self.feed.add([self.presenter.system(problem, LineKind.ERROR)])

    def note(self, text: str) -> None:
        """Show a note of ours (not from the network) as a system line."""
        self.feed.add([self.presenter.system(text)])

    def _in_chat_as(self) -> str | None:
        """The name this window is in the chat as (None: not in it, or closed)."""
        if self.driver.closed or self.core.state is not ClientState.IN_CHAT:
            return None
        return self.core.user or None

    def _reader(self) -> str:
        """Whose history this window keeps and reads (history_store.py): the name it is
        in the chat as, before that the name it started with, else ""."""
        if self.core.state is ClientState.IN_CHAT and self.core.user:
            return self.core.user
        return self.options.user or ""


def _parts_preview(parts: list[str]) -> str:
    """The messages a long text is split into: each numbered, its start and end, its size."""
    shown = []
    for n, part in enumerate(parts, start=1):
        short = part if len(part) <= 70 else f"{part[:40]} \u2026 {part[-25:]}"
        shown.append(f"{n}. {short}  ({len(part.encode()):,} bytes)")
    return "\n".join(shown)


def _longest(text: str) -> int:
    """The bytes of the longest chat line ``text`` says (0 for a command)."""
    return max((len(said.encode()) for said in said_texts(text) or []), default=0)
