"""Building the window: QML module, registered Python types, the bridge, signals.

Kept apart from ``__main__`` so tests and benchmarks build exactly the window a
user gets, inside their own QGuiApplication.
"""

from __future__ import annotations

import dataclasses
import gc
import importlib.util
import os
import signal
import socket
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6 import QtQuick  # rootObjects() are QQuickWindows only once it is imported
from PySide6.QtCore import QSocketNotifier, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtQml import QQmlApplicationEngine
from PySide6.QtQuickControls2 import QQuickStyle

from protocol_lib import ClientConfig
from protocol_lib.client_events import RelayStyle
from protocol_lib.discovery import ChatRecord
from protocol_lib.io.net import ANY_INTERFACE
from protocol_lib.io.waker import stop_signals

from . import models  # noqa: F401 - registers the models with QML
from .bridge import ChatBridge
from .cli import ClientOptions
from .history_store import HistoryStore
from .history_store import default_path as default_history_path
from .name_hold import NameHold
from .notify import DesktopNotifier, Notifier
from .places import data_dir
from .settings import Remembered, SettingsStore
from .theme import Theme  # registers the Theme singleton with QML

if TYPE_CHECKING:
    from server_app.hosted import HostedServer

    from .tray import TrayNotifier

QML_DIR = Path(__file__).resolve().parent
SECOND_WINDOW_OFFSET = 40  # pixels right and down: a second window of yours, not on top
STYLE = "Fusion"  # crisp and native-looking on every desktop; no extra assets


class ChatWindow:
    """The engine, the bridge and the top-level window of one client."""

    def __init__(
        self,
        options: ClientOptions,
        config: ClientConfig | None = None,
        settings: SettingsStore | None = None,
        history: HistoryStore | None = None,
        notifier: Notifier | None = None,
        names: NameHold | None = None,
    ) -> None:
        if not os.environ.get("QT_QUICK_CONTROLS_STYLE") and QQuickStyle.name() != STYLE:
            QQuickStyle.setStyle(STYLE)  # once per process, before the first QML load
        self.engine = QQmlApplicationEngine()
        # A child of the engine: destroyed after the window whose bindings read it.
        self.bridge = ChatBridge(
            options, self.engine, config, settings=settings, history=history,
            notifier=notifier, names=names,
        )  # fmt: skip
        self.engine.addImportPath(str(QML_DIR))
        self.engine.setInitialProperties({"bridge": self.bridge})
        self.engine.loadFromModule("LanChat", "Main")
        roots = self.engine.rootObjects()
        if not roots:
            raise RuntimeError("the QML window failed to load (see the messages above)")
        window = roots[0]
        if not isinstance(window, QtQuick.QQuickWindow):
            raise RuntimeError("Main.qml's root is not a window")
        self.window = window

    def close(self, say_exit: bool = True) -> None:
        """Stop the worker and release the window."""
        self.bridge.shutdown(say_exit)
        self.window.close()
        self.engine.deleteLater()


class SignalWaker:
    """Lets Python's signal handlers run while Qt's event loop waits, without waking it.

    Qt's loop keeps Python from running a handler until some Python code runs.  A timer
    every 200 ms used to give it the chance: 5 wake-ups a second of a window that has
    nothing to do.  Now the OS's signal wakes the loop itself: Python writes the signal's
    number to a socket (``signal.set_wakeup_fd``), a QSocketNotifier sees it and runs a
    Python slot, and the handler runs then.  Where that cannot be set up (no socketpair,
    or not the main thread), the timer is kept.
    """

    def __init__(self) -> None:
        self._timer: QTimer | None = None
        self._notifier: QSocketNotifier | None = None
        self._previous_fd = -1
        try:
            self._reader, self._writer = socket.socketpair()
            for sock in (self._reader, self._writer):
                sock.setblocking(False)
            self._previous_fd = signal.set_wakeup_fd(self._writer.fileno())
        except (OSError, ValueError):  # ValueError: not the main thread
            self._timer = QTimer()
            self._timer.timeout.connect(lambda: None)
            self._timer.start(200)
            return
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._drain)

    def _drain(self) -> None:
        """Python code runs: the pending handlers with it; the bytes are only a doorbell."""
        try:
            while self._reader.recv(512):
                pass
        except OSError:  # BlockingIOError: all read
            pass

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            return
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            signal.set_wakeup_fd(self._previous_fd)
            self._reader.close()
            self._writer.close()


def _quit_on_signals(app: QGuiApplication) -> SignalWaker:
    """Let Ctrl+C and SIGTERM quit through aboutToQuit (so ``exit,`` is sent).

    ``exit(0)``, not ``quit()``: Qt 6's quit() first closes every window, which
    tears down the window's platform window while a repaint it requested may
    still be pending; that timer then fired on a window that was gone (SIGSEGV
    in QPlatformWindow::hasPendingUpdateRequest, seen in a core dump, about one
    quit in ten under load).  exit() only ends the loop; aboutToQuit still runs
    the bridge's shutdown, after the last event has been handled.

    The handler queues the exit instead of calling it: a signal can come before
    ``app.exec()`` has started (Ctrl+C while the window opens), and ``exit()`` then
    emitted aboutToQuit (the bridge said ``exit,``) but ended no loop, and the one
    ``exec()`` started next ran on with the chat already left (seen: run-chat hung
    after Ctrl+C in about 1 run in 4 when the key came right after the login).
    """

    def stop(*_: object) -> None:
        QTimer.singleShot(0, app, lambda: app.exit(0))

    hangup = getattr(signal, "SIGHUP", None)  # the terminal closed: leave as on Ctrl+C
    for sig in [*stop_signals(), *([hangup] if hangup is not None else [])]:
        signal.signal(sig, stop)
    return SignalWaker()


def apply_theme(theme: str) -> None:
    """Light, dark, or "auto" (the desktop's scheme): for the windows loaded after this."""
    Theme.choice = theme


def _history_for(options: ClientOptions, path: Path) -> tuple[HistoryStore | None, str | None]:
    if not options.keep_history:
        return None, None
    try:
        return HistoryStore(path, options.conversation), None
    except (OSError, sqlite3.Error) as exc:
        return None, f"no history is kept: {path} cannot be used ({exc})"


def open_window(
    options: ClientOptions,
    given: set[str],
    store: SettingsStore,
    history_path: Path | None = None,
    names: NameHold | None = None,
) -> tuple[ChatWindow, Remembered]:
    """The window a user gets: remembered choices under the command line's, geometry too.

    A remembered name is in ``options.user`` afterwards, so ``start`` logs in, unless
    another window of this account is in the chat as that name (``names``, default: the
    runtime directory's): then this one says so and waits for /login.
    The history is kept at ``history_path`` (default: the XDG data directory).
    """
    history_path = history_path or default_history_path()
    names = names or NameHold.default()
    remembered, problem = store.load()
    options = remembered.under(options, given)
    waiting = None  # a remembered name that another window of this account is in the chat as
    if (
        "user" not in given
        and options.user
        and names.held_elsewhere(options.conversation, options.user)
    ):
        waiting, options = options.user, dataclasses.replace(options, user=None)
    history, history_problem = _history_for(options, history_path)
    notifier, tray = default_notifier()
    chat = ChatWindow(options, settings=store, history=history, notifier=notifier, names=names)
    if tray is not None:  # a click on the tray's message brings the window
        tray.activate = chat.window.requestActivate
    chat.bridge.account.elsewhere = waiting
    if history_problem is not None:
        chat.bridge.report(history_problem)
    if remembered.geometry is not None:
        x, y, width, height = remembered.geometry
        if waiting is not None:  # the window that holds the name is where this one would be
            x, y = x + SECOND_WINDOW_OFFSET, y + SECOND_WINDOW_OFFSET
        chat.window.setGeometry(x, y, max(width, 320), max(height, 240))
    if problem is not None:
        chat.bridge.report(problem)
    return chat, remembered


class CurrentWindow:
    """The application's window; Join on a chat found on the network replaces it with one
    on that chat (same place and size; the old one leaves its chat and goes)."""

    def __init__(self, chat: ChatWindow, store: SettingsStore, app: QGuiApplication) -> None:
        self.chat = chat
        self.store = store
        self.app = app
        self._watch(chat)

    def _watch(self, chat: ChatWindow) -> None:
        self.app.aboutToQuit.connect(chat.bridge.shutdown)
        chat.bridge.joinRequested.connect(self.join)
        chat.bridge.hostRequested.connect(self.host)

    def host(self, title: str) -> None:
        """Start our server in this process on this machine's LAN address (announced, the
        spec's port and group where free), then join it; the window asks before closing.
        The window that joins it holds it (``ChatBridge.hosted``)."""
        old = self.chat
        if old.bridge.hosting:
            old.bridge.report("This window already hosts a chat.")
            return
        hosted, problem = start_hosting(title)
        if hosted is None:
            old.bridge.report(f"Cannot host a chat here: {problem}")
            return
        from server_app.web import web_port

        options = hosted.options
        address = options.interface if options.host == "0.0.0.0" else options.host
        record = ChatRecord(
            title, address, hosted.address[1], options.group, options.group_port,
            RelayStyle.ATTRIBUTED, web=web_port(hosted.web),
        )  # fmt: skip
        if not self.join(record):
            hosted.stop()  # no window for it: nobody could close it
            return
        self.chat.bridge.set_hosting(hosted)

    def stop_hosting(self) -> None:
        """The hosting window has closed: the chat ends (bye for everyone)."""
        self.chat.bridge.end_hosting()

    def join(self, record: ChatRecord) -> bool:
        """A window on ``record``'s chat in place of this one; False if it cannot open."""
        old = self.chat
        options = joined(old.bridge.options, record)
        given = JOIN_GIVEN | ({"user"} if options.user else set())
        try:
            new, _ = open_window(options, given, self.store)
        except RuntimeError as exc:
            old.bridge.report(f"cannot open a window on {record.address}: {exc}")
            return False
        new.window.setGeometry(old.window.geometry())
        self._watch(new)
        new.window.show()
        new.bridge.start()
        self.chat = new
        old.close()  # says exit if it was in a chat; its engine goes later
        old.bridge.end_hosting()  # its host went elsewhere: that chat ends
        return True


def hosting_places(lan: list[str], port: int) -> list[tuple[str, int]]:
    """Where "Host a chat" tries to bind, in order: every address on the spec's port (the
    port every implementation assumes); the first LAN address alone on it, which is free
    when only a loopback server holds it (run-chat's: it hosted on a random port, out of
    other implementations' reach); any port the OS picks; loopback alone without a LAN."""
    if not lan:
        return [("127.0.0.1", port), ("127.0.0.1", 0)]
    return [("0.0.0.0", port), (lan[0], port), ("0.0.0.0", 0)]


def start_hosting(title: str) -> tuple[HostedServer | None, str]:
    """Our server where others reach it (``hosting_places``), announced; why not, if not."""
    from protocol_lib import DEFAULT_SERVER_PORT
    from protocol_lib.io.discovery import lan_addresses
    from protocol_lib.io.net import SocketSetupError
    from server_app.cli import parse_options as server_options
    from server_app.hosted import HostedServer
    from server_app.web import DEFAULT_HTTP_PORT

    lan = lan_addresses()
    interface = lan[0] if lan else "127.0.0.1"
    # Phones join through a web page when the web extra is installed ("Invite phones").
    web = ["--web", str(DEFAULT_HTTP_PORT)] if importlib.util.find_spec("aiohttp") else []
    log = data_dir() / "hosted-server.log"
    problem = ""
    for host, port in hosting_places(lan, DEFAULT_SERVER_PORT):
        argv = ["--host", host, "--port", str(port), "--interface", interface,
                "--title", title, "--log-file", str(log), *web]  # fmt: skip
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            hosted = HostedServer(server_options(argv))
        except (SocketSetupError, OSError) as exc:
            problem = str(exc)
            continue
        hosted.start()
        return hosted, ""
    return None, problem


JOIN_GIVEN = {"server", "port", "group", "group_port", "interface", "relay", "title", "web_url"}
"""What a found chat's record decides (the rest is remembered or given as before)."""


def joined(options: ClientOptions, record: ChatRecord) -> ClientOptions:
    """``options`` for the chat ``record`` announces: its server, group and relay style; the
    interface left to the OS (a launcher's loopback would hear nothing from the LAN)."""
    return dataclasses.replace(
        options,
        server=record.address,
        port=record.port,
        group=record.group,
        group_port=record.group_port,
        interface=ANY_INTERFACE,
        relay=record.relay,
        title=record.title,
        web_url=record.web_url or "",
        server_sources=(),
    )


def default_notifier() -> tuple[Notifier, TrayNotifier | None]:
    """notify-send where it is installed (freedesktop desktops), else the system tray
    (Windows, macOS, a desktop without a notification service): see tray.py.  The tray
    notifier also comes second.  QtWidgets is loaded only for the tray (~6 MB)."""
    desktop = DesktopNotifier()
    if desktop.command is not None:
        return desktop, None
    from .tray import TrayNotifier

    tray = TrayNotifier()
    return tray, tray


def make_application() -> QGuiApplication:
    """The application object: QtWidgets' one where the tray will notify, or where there
    is no console (a start-up problem is shown in a message box), else the lighter
    QGuiApplication (the window is QML either way).

    argv[0] "lanchat": the X11 window class (python -m gave "__main__.py"); the desktop
    file name is the Wayland app id. No display name: Qt would add "lanchat" to every
    title, which already says where the chat is."""
    if DesktopNotifier().command is None or sys.stderr is None:  # the tray, message boxes
        from PySide6.QtWidgets import QApplication  # loaded only then (~6 MB)

        app: QGuiApplication = QApplication(["lanchat"])
    else:
        app = QGuiApplication(["lanchat"])
    app.setApplicationName("lanchat")
    app.setDesktopFileName("lanchat")
    return app


def freeze_startup_objects() -> None:
    """Keep what start-up made out of the cyclic collector's full passes.

    The modules, QML types and the window's wrappers (~27,000 objects) live as long
    as the process, yet every full collection walked them: under a flood of lines
    those passes stalled the event loop (figures: benchmarks/README.md, "gc.freeze").
    """
    gc.freeze()


GIL_SWITCH_SECONDS = 0.001  # how long a thread that wants the interpreter waits for it


def switch_threads_sooner() -> None:
    """Let the GUI thread and the receiving worker take turns at the interpreter every
    millisecond instead of Python's default five.

    Both run Python under a flood, and a thread that wants the interpreter while the
    other holds it waits out the switch interval: the GUI thread waited up to 5 ms at
    each drain pass and each call the view makes into the model, and the worker as
    long while the kernel's buffer filled (figures: benchmarks/README.md, "switch
    interval").
    """
    sys.setswitchinterval(GIL_SWITCH_SECONDS)


def run(options: ClientOptions, given: set[str] | None = None) -> int:
    """Open the window and run until it is closed or a stop signal arrives."""
    app = make_application()
    apply_theme(options.theme)
    store = SettingsStore.default()
    try:
        chat, _ = open_window(options, given or set(), store)
    except RuntimeError as exc:
        print(f"lanchat-client: {exc}", file=sys.stderr)
        return 1
    current = CurrentWindow(chat, store, app)
    keepalive = _quit_on_signals(app)
    switch_threads_sooner()
    chat.bridge.start()
    if options.host_chat is not None:  # lanchat --host: as the button does
        chat.bridge.host(options.host_chat)
    freeze_startup_objects()
    code = app.exec()
    keepalive.stop()
    chat = current.chat
    frame = chat.window.geometry()
    store.update(geometry=(frame.x(), frame.y(), frame.width(), frame.height()))
    chat.bridge.shutdown()  # already done by aboutToQuit; idempotent
    current.stop_hosting()  # the chat this window hosted ends: bye for everyone
    # The engine (and the window and bridge it owns) must go while the application
    # object still exists: left to the interpreter, locals die in no set order, and a
    # QQuickWindow destroyed after its QGuiApplication crashed on exit (SIGSEGV, seen
    # once as a SIGTERM'd client in the cross-host test).
    close_tray = getattr(chat.bridge.notifier, "close", None)  # the tray's icon goes
    if close_tray is not None:
        close_tray()
    shiboken6.delete(chat.engine)
    return code
