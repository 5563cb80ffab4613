"""The QObject between the QML view and the network: the client's one GUI-side brain.

Threading design (the answer to the assignment's race condition): the GUI
lives in the main thread and only the main thread touches the ClientCore and
the list models.  A worker thread (``receiver.Receiver``) blocks on the
sockets and hands what it reads to an ``Inbox``; it then emits ``_wake``, a
signal of this object, which lives in the main thread, so Qt delivers it as a
queued call that starts the drain timer: ``_drain_inbox`` runs in the main
thread, takes what has arrived (as much as one pass may), runs it through the
ClientCore and inserts the resulting lines into the model in one batch.  No
model is ever written from two threads, and a flood costs one model update per
event-loop tick instead of one per datagram.  Sending happens in the main
thread (a UDP ``sendto`` does not block).
"""

from __future__ import annotations

import dataclasses
import math
import socket
import threading
import time

from PySide6.QtCore import Property, QObject, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtQml import QmlElement

from protocol_lib import ClientConfig, ClientCore, ClientEvent, ClientState
from protocol_lib.commands import pasted_lines, typed_line
from protocol_lib.display import shown_name
from protocol_lib.io.net import (
    ANY_INTERFACE,
    SocketSetupError,
    group_receiver,
    server_sources,
    unicast_socket,
    why,
)
from protocol_lib.ratelimit import client_pace

from .cli import ClientOptions
from .history import InputHistory, complete_name
from .history_store import HistoryStore
from .models import MessageModel, UserModel
from .name_hold import NameHold
from .notify import Notifier
from .presenter import ChatLine, LineKind, Presenter, ViewUpdate, announcement
from .receiver import Inbox, Receiver
from .settings import Remembered, SettingsStore

QML_IMPORT_NAME = "LanChatBackend"
QML_IMPORT_MAJOR_VERSION = 1

DRAIN_SLICE = 250  # datagrams taken from the inbox at a time
DRAIN_BUDGET = 0.002  # seconds of reading per event-loop pass; input and timers come between
SHOW_INTERVAL = 0.033  # seconds: under a flood the view takes new lines ~30 times a second
NAME_HOLD_RETRY_MS = 1000  # how soon a name another window still holds is tried again
PASTE_CONFIRM_LINES = 5  # a paste of more lines than this is sent only once the user agrees


@QmlElement
class ChatBridge(QObject):
    """What the view can ask (``send``) and show (properties, models): Qt glue only.

    Decisions are ClientCore's; what they look like is the Presenter's.
    """

    stateChanged = Signal()
    statusChanged = Signal()
    quitRequested = Signal()
    incoming = Signal(int)  # chat lines from others in one batch (the window counts unread)
    announce = Signal(str)  # what a screen reader should say about a batch from others
    showRow = Signal(int)  # the view should bring this row into sight and select it (a hit)
    pasteConfirmationNeeded = Signal(int)  # lines in a paste that waits for the user's yes
    _wake = Signal()  # emitted by the worker thread; delivered queued in the GUI thread

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
        self.notifier = notifier if options.notify else None
        self.open_url = QDesktopServices.openUrl  # replaced in tests: nothing is opened there
        self._window_active = True
        self._hits: list[int] = []  # lines of the view that match the last /search (sequence)
        self._next_hit = 0
        self._marked_unread = False  # the "unread" line is in the view for this absence
        self.options = options
        self.history = history  # every line shown is kept there (None: --no-history)
        self.settings = settings  # where a welcomed login is remembered (None: nowhere)
        self.names = names  # where this window holds the name it is in the chat as (or None)
        # The remembered name another window of this account is in the chat as (open_window
        # did not log in as it): said after the welcome line.
        self.name_elsewhere: str | None = None
        config = config or ClientConfig(send_limit=client_pace(options.server_limit))
        if not config.server_sources:  # only the server's datagrams change our state
            sources = server_sources(options.server, options.server_sources)
            config = dataclasses.replace(config, server_sources=sources)
        self.core = ClientCore(config)
        self.presenter = Presenter()
        self._messages = MessageModel(self)
        self._users = UserModel(self)
        self._inbox = Inbox()
        self._receiver: Receiver | None = None
        self._history = InputHistory()
        self._status_note = ""
        self._paste_waiting: str | None = None
        self._closed = False
        self.drain_threads: set[int] = set()  # where _drain_inbox ran (must be the GUI thread)
        self._tick_timer = QTimer(self)
        self._tick_timer.setSingleShot(True)
        self._tick_timer.timeout.connect(self._tick)
        # Each drain pass runs as a timer, not as a posted event: Qt's glib event loop
        # dispatches posted events before timers, and decides which timers are due before
        # either, so a pass that posts the next one runs two passes before any timer, and
        # timers are what bring frames (update requests) and the view's own clocks.
        self._drain_timer = QTimer(self)
        self._drain_timer.setSingleShot(True)
        self._drain_timer.setInterval(0)
        self._drain_timer.timeout.connect(self._drain_inbox)
        self._wake.connect(self._drain_timer.start)
        # Lines read but not yet in the view (see _add_lines), and when the view last took some.
        self._unshown: list[ChatLine] = []
        self._shown_at = -SHOW_INTERVAL
        self._show_timer = QTimer(self)
        self._show_timer.setSingleShot(True)
        self._show_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._show_timer.timeout.connect(self._show_unshown)
        self.sock: socket.socket | None = None
        self.group_sock: socket.socket | None = None

    # --- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        """Show the kept history, open the sockets, start the worker, log in if asked."""
        self._show_earlier()
        opts = self.options
        try:
            try:
                self.group_sock = group_receiver(opts.group, opts.group_port, opts.interface)
            except OSError as exc:
                where = f"{opts.group}:{opts.group_port} on interface {opts.interface}"
                raise SocketSetupError(f"cannot join the group {where}: {why(exc)}") from exc
            bind_ip = opts.interface if opts.interface != ANY_INTERFACE else ""
            self.sock = unicast_socket(bind_ip, 0, "open the socket to the server")
        except SocketSetupError as exc:
            if self.group_sock is not None:
                self.group_sock.close()
                self.group_sock = None
            self._add_lines([self.presenter.system(str(exc), LineKind.ERROR)])
            self._status_note = "network error"
            self.statusChanged.emit()
            return
        self._receiver = Receiver([self.group_sock, self.sock], self._inbox, self._wake.emit)
        self._receiver.start()
        self._add_lines(
            [
                self.presenter.system(
                    "Welcome to lanchat. Type /login NAME to join, /help for commands."
                )
            ]
        )
        if opts.user:
            self.send(f"/login {opts.user}")
        elif self.name_elsewhere is not None:
            self.note(
                f"Another window of yours is in this chat as {shown_name(self.name_elsewhere)}, "
                "so this one does not log in (that would take the name over). "
                "Type /login NAME to join."
            )

    @Slot()
    def shutdown(self, say_exit: bool = True) -> None:
        """Say exit if in the chat, stop and join the worker, close the sockets.

        Connected to QGuiApplication.aboutToQuit: it must finish before the
        application object goes away, or the worker's signal outlives its source.
        ``say_exit=False`` leaves like a crashed client (tests of takeover).
        Afterwards nothing is armed: no tick, no drain.
        """
        if self._closed:
            return
        if self.sock is not None and say_exit:
            self._apply(self.core.close(time.monotonic()))
        self._closed = True
        self._tick_timer.stop()
        if self._receiver is not None:
            self._receiver.stop()
            self._receiver.join(timeout=5)
            self._receiver = None
        for sock in (self.sock, self.group_sock):
            if sock is not None:
                sock.close()
        if self.history is not None:
            self.history.close()  # what was recorded is written first
        self._hold_name()  # closed: lets the name go
        self.sock = self.group_sock = None

    @property
    def worker_alive(self) -> bool:
        return self._receiver is not None and self._receiver.is_alive()

    # --- what QML calls ------------------------------------------------------

    @Slot(str, result=bool)
    def send(self, line: str) -> bool:
        """Handle a typed line; True if the input field may be cleared.

        A paste of more than PASTE_CONFIRM_LINES lines waits: the view asks
        the user (``pasteConfirmationNeeded``) and calls ``confirmPaste``.
        """
        count = len(pasted_lines(line))
        if count > PASTE_CONFIRM_LINES:
            self._paste_waiting = line
            self.pasteConfirmationNeeded.emit(count)
            return False
        return self._send(line)

    @Slot(result=bool)
    def confirmPaste(self) -> bool:
        """The user agreed to send the waiting paste, one message per line."""
        line, self._paste_waiting = self._paste_waiting, None
        return self._send(line) if line is not None else False

    @Slot()
    def cancelPaste(self) -> None:
        self._paste_waiting = None

    def _send(self, line: str) -> bool:
        self._history.add(line)
        events = typed_line(self.core, line, time.monotonic())
        return self._apply(events)

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

    @Slot(result=str)
    def previousLine(self) -> str:
        """Up arrow: the line typed before the one shown."""
        return self._history.previous()

    @Slot(result=str)
    def nextLine(self) -> str:
        """Down arrow: the line typed after the one shown (empty past the last)."""
        return self._history.next()

    def _get_messages(self) -> MessageModel:
        return self._messages

    def _get_users(self) -> UserModel:
        return self._users

    def _get_state(self) -> str:
        return self.core.state.value

    def _get_in_chat(self) -> bool:
        return self.core.state is ClientState.IN_CHAT

    def _get_logging_in(self) -> bool:
        return self.core.state is ClientState.LOGGING_IN

    def _get_user(self) -> str:
        return shown_name(self.core.user or "")

    def _get_title(self) -> str:
        where = f"lanchat @ {self.options.server}:{self.options.port}"
        if self.core.state is ClientState.IN_CHAT:
            return f"{shown_name(self.core.user or '')} \u2014 {where}"
        return f"{where} ({self.core.state.value})"

    def _get_status(self) -> str:
        o = self.options
        iface = "" if o.interface == ANY_INTERFACE else f" on {o.interface}"
        state = self.core.state.value
        if self.core.state is not ClientState.LOGGED_OUT and self.core.user:
            state += f" as {shown_name(self.core.user)}"
        parts = [
            f"Server {o.server}:{o.port}",
            f"group {o.group}:{o.group_port}{iface}",
            state,
        ]
        if self._status_note:
            parts.append(self._status_note)
        return "  \u00b7  ".join(parts)

    messages = Property(QObject, _get_messages, constant=True)
    users = Property(QObject, _get_users, constant=True)
    state = Property(str, _get_state, notify=stateChanged)  # shown to people, not compared
    alertWanted = Property(bool, lambda self: self.options.alert, constant=True)
    inChat = Property(bool, _get_in_chat, notify=stateChanged)
    loggingIn = Property(bool, _get_logging_in, notify=stateChanged)
    user = Property(str, _get_user, notify=stateChanged)
    title = Property(str, _get_title, notify=stateChanged)
    status = Property(str, _get_status, notify=statusChanged)

    @property
    def message_model(self) -> MessageModel:
        return self._messages

    @property
    def user_model(self) -> UserModel:
        return self._users

    # --- what the worker hands over -------------------------------------------

    @Slot()
    def _drain_inbox(self) -> None:
        if self._closed:
            return
        self.drain_threads.add(threading.get_ident())
        start = time.monotonic()
        events: list[ClientEvent] = []
        lines: list[ChatLine] = []
        more = True
        while more and time.monotonic() - start < DRAIN_BUDGET:
            datagrams, errors, dropped, more = self._inbox.take(DRAIN_SLICE)
            events += self.core.receive_all(datagrams, time.monotonic())
            lines += [self.presenter.system(text, LineKind.ERROR) for text in errors]
            if dropped:
                lines.append(self.presenter.dropped(dropped))
        if more:  # let the event loop paint and take input before the next pass
            self._drain_timer.start()
        self._apply(events, lines, paced=True)

    @Slot()
    def _tick(self) -> None:
        if not self._closed:
            self._apply(self.core.tick(time.monotonic()))

    # --- events to view -------------------------------------------------------

    def _apply(
        self, events: list[ClientEvent], lines: list[ChatLine] | None = None, paced: bool = False
    ) -> bool:
        """Carry out one batch: send, show, mark, update the roster; True if no error.

        ``paced``: the batch was read from the network, and its lines may wait up to
        SHOW_INTERVAL for the view (_add_lines).  What the user did shows at once, and
        so does a batch that changes the state (the status line and the line that says
        why come together)."""
        update = self.presenter.present(events, self.core.user)
        self._add_lines(self._lines_of(update, lines or []), paced and not update.state_changed)
        if update.statuses:
            self._show_unshown()  # a mark goes on a line the view has
        for message_id, status in update.statuses:
            self._messages.set_status(message_id, status)
        if update.incoming:
            self.incoming.emit(update.incoming)
            self.announce.emit(announcement(update))
        if update.mentions and not self._window_active and self.notifier is not None:
            line = update.mentions[-1]
            more = f" (and {len(update.mentions) - 1} more)" if len(update.mentions) > 1 else ""
            who = line.sender or "someone"
            self.notifier.notify(f"{who} mentioned you{more}", line.line_text)
        if update.roster_changed or update.state_changed:
            self._users.set_users(tuple(self.core.roster), self.core.user)
        if update.state_changed:
            self._status_note = ""
            self.stateChanged.emit()
            self.statusChanged.emit()
        if update.quit:
            QTimer.singleShot(0, self.quitRequested.emit)
        if not self._closed:
            self._schedule_tick()
        return not update.failed

    def report(self, problem: str) -> None:
        """Show a problem of ours (not from the network) as a red line."""
        self._add_lines([self.presenter.system(problem, LineKind.ERROR)])

    @Slot(bool)
    def setWindowActive(self, active: bool) -> None:
        """The view says whether the window has the focus (for the unread line, notices)."""
        if active != self._window_active:
            self._window_active = active
            if not active:
                self._marked_unread = False

    def _unread_marker(self, update: ViewUpdate) -> list[ChatLine]:
        """The line above the first line that arrives while you are away."""
        away = not self._window_active and self.options.unread_line
        if not away or self._marked_unread or not update.lines:
            return []
        self._marked_unread = True
        return [self.presenter.system("\u2500\u2500 unread \u2500\u2500")]

    def _lines_of(self, update: ViewUpdate, lines: list[ChatLine]) -> list[ChatLine]:
        """Send the batch's datagrams and do its view requests; the lines to show."""
        shown = lines + self._unread_marker(update) + update.lines
        for data in update.datagrams:
            self._send_datagram(data, shown)
        if update.state_changed and self.core.state is ClientState.IN_CHAT:
            self._remember_login(shown)
        if update.state_changed:
            self._hold_name()
        if update.clear or update.search is not None:
            self._show_unshown()  # the lines before the request, in the view first
        if update.clear:
            self._messages.clear()
        if update.search is not None:
            matches = self._messages.rows_with(update.search)  # before the results go in
            self._hits = [self._messages.sequence(row) for row in matches]
            self._next_hit = 0
            shown += self._search(update.search)
            if self._hits:
                QTimer.singleShot(0, self.nextHit)
        return shown

    @Slot(result=int)
    def nextHit(self) -> int:
        """F3: the next line of the last search that is in the view (newest first, cycling);
        a hit that has left the scrollback meanwhile is skipped, and forgotten."""
        self._show_unshown()
        while self._hits:
            at = self._next_hit % len(self._hits)
            row = self._messages.row_of(self._hits[at])
            if row is None:
                del self._hits[at]
                continue
            self._next_hit += 1
            self.showRow.emit(row)
            return row
        return -1

    def _remember_login(self, lines: list[ChatLine]) -> None:
        """A welcomed login: remember the name and where the chat is, for the next start."""
        if self.settings is None:
            return
        problem = self.settings.update(**Remembered.of_login(self.options, self.core.user))
        if problem is not None:
            lines.append(self.presenter.system(problem, LineKind.ERROR))

    @Slot()
    def _hold_name(self) -> None:
        """In the chat: hold the name, so that another window of this account does not log
        in as it at start (name_hold.py); out of it, let go.  A name that another window
        still holds (the one this took it over from, before it has seen the takeover) is
        tried again every NAME_HOLD_RETRY_MS while this window is in the chat as it."""
        if self.names is None:
            return
        user = self.core.user
        if self._closed or self.core.state is not ClientState.IN_CHAT or not user:
            self.names.release()
        elif not self.names.hold(self.options.conversation, user):
            QTimer.singleShot(NAME_HOLD_RETRY_MS, self, self._hold_name)

    def note(self, text: str) -> None:
        """Show a note of ours (not from the network) as a system line."""
        self._add_lines([self.presenter.system(text)])

    def _send_datagram(self, data: bytes, lines: list[ChatLine]) -> None:
        if self.sock is None:
            lines.append(
                self.presenter.system("not connected: the chat sockets are closed", LineKind.ERROR)
            )
            return
        try:
            self.sock.sendto(data, (self.options.server, self.options.port))
        except OSError as exc:
            why = f"could not send: {exc.strerror or exc}"
            lines.append(self.presenter.system(why, LineKind.ERROR))

    def _add_lines(self, lines: list[ChatLine], paced: bool = False) -> None:
        """Keep the lines, and put them in the view now or within SHOW_INTERVAL.

        Each insert into the model costs the view a layout of every line in sight and
        a frame, whatever the batch holds (benchmarks/bench_view.py).  A line after a
        quiet spell goes in at once; under a flood the view takes what has come at
        most ~30 times a second, and the GUI thread spends the rest on reading, with
        short passes (DRAIN_BUDGET 8 -> 2 ms) that let input and timers in between.
        Measured against the revision before (bench_client, 6 alternating runs at
        100,000 lines/s): longest stall 26-54 -> 13-26 ms (one run 49), 99th
        percentile 24-27 -> 12-19 ms, GUI-thread CPU 1.5-1.7 -> 1.35-1.55 s; at
        200,000/s (3 runs) the inbox no longer overflowed (before: 31k lines dropped
        in one run), 99th percentile 24-31 -> 19-24 ms.
        """
        if not lines:
            return
        if self.history is not None:
            self.history.record(
                ((str(line.kind), line.sender, line.line_text) for line in lines), me=self._reader()
            )
        self._unshown += lines
        wait = self._shown_at + SHOW_INTERVAL - time.monotonic() if paced else 0.0
        if wait <= 0:
            self._show_unshown()
        elif not self._show_timer.isActive():
            self._show_timer.start(math.ceil(wait * 1000))

    @Slot()
    def _show_unshown(self) -> None:
        """Put the lines that wait into the view (before anything else reads or marks it)."""
        if not self._unshown:
            return
        self._show_timer.stop()
        lines, self._unshown = self._unshown, []
        self._messages.append_lines(lines)
        self._shown_at = time.monotonic()

    def _show_earlier(self) -> None:
        """The conversation's last lines from the history, set apart from what follows."""
        if self.history is None:
            return
        earlier = self.history.recent(me=self._reader())
        if not earlier:
            return
        shown = [
            ChatLine(LineKind(line.kind), line.text, line.sender, line.when()) for line in earlier
        ]
        shown.append(
            self.presenter.system(
                f"{len(earlier)} earlier line(s) above, kept since {earlier[0].when()} "
                "(Ctrl+F or /search finds older ones)"
            )
        )
        self._show_unshown()
        self._messages.append_lines(shown)  # shown, not recorded again

    def _reader(self) -> str:
        """Whose history this window keeps and reads (history_store.py): the name it is
        in the chat as, before that the name it started with, else ""."""
        if self.core.state is ClientState.IN_CHAT and self.core.user:
            return self.core.user
        return self.options.user or ""

    def _search(self, words: str) -> list[ChatLine]:
        if self.history is None:
            return [self.presenter.system("No history is kept (--no-history).", LineKind.ERROR)]
        hits = self.history.search(words, me=self._reader())
        if not hits:
            return [self.presenter.system(f"Nothing in the history matches: {words}")]
        listing = "\n".join(
            f"{hit.when()}  {hit.sender + ': ' if hit.sender else ''}{hit.text}" for hit in hits
        )
        found = f"{len(hits)} line(s) match {words!r}, newest first:"
        return [self.presenter.system(f"{found}\n{listing}")]

    def _schedule_tick(self) -> None:
        deadline = self.core.next_deadline()
        if deadline is None:
            self._tick_timer.stop()
            return
        delay_ms = max(0, int((deadline - time.monotonic()) * 1000) + 1)
        self._tick_timer.start(delay_ms)
