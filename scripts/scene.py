"""A scripted conversation in two real windows, photographed: the README's pictures and
the view's check at every width, theme and zoom (issue 25).

    xvfb-run -a .venv/bin/python scripts/scene.py --out /tmp/scene        # every variant
    xvfb-run -a .venv/bin/python scripts/scene.py --out docs --readme     # the README's two

Our server runs on loopback (a group of 239.255.x on 127.0.0.1, a free port); alice and
bob are two ChatWindows of this process, each with its own history in a temporary
folder.  The conversation: both log in, talk, bob's window is closed and opened again
(its history comes back), alice renames herself, sends 20 quick lines, bob sends a line
with two long links, alice pastes 7 lines (the dialog is photographed), bob types a line
over the limit (the offer to split it is photographed, and declined).  Then bob's window
is photographed at each size, theme and zoom.
Nothing here leaves the loopback interface.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HOME = Path(tempfile.mkdtemp(prefix="lanchat-scene-"))
for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR"):
    os.environ[var] = str(HOME / var.lower())
    (HOME / var.lower()).mkdir(mode=0o700)
os.environ["LANCHAT_NO_MDNS"] = "1"  # windows made here look for no chats: loopback only

from PySide6.QtCore import Q_ARG, QCoreApplication, QEventLoop, QMetaObject, QObject  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtQuick import QQuickItem  # noqa: E402

from protocol_lib.client_events import RelayStyle  # noqa: E402
from qml_client.app import ChatWindow  # noqa: E402
from qml_client.cli import ClientOptions  # noqa: E402
from qml_client.history_store import HistoryStore  # noqa: E402

LOOPBACK = "127.0.0.1"
SIZES = [(480, 640), (900, 600), (1400, 900)]
ZOOM_STEPS = range(-2, 5)
LINKS = (
    "https://www.debian.org/releases/bookworm/amd64/release-notes/ch-whats-new.en.html "
    "and https://doc.qt.io/qtforpython-6/PySide6/QtQuick/QQuickWindow.html#detailed-description"
)
PASTE = "\n".join(f"step {i}: {text}" for i, text in enumerate(
    ["open a terminal", "cd lanchat", "scripts/run-chat", "type your name", "say hello",
     "try /help", "close the window"], start=1))  # fmt: skip


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def pump(until: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise SystemExit(f"scene: timed out waiting for {what}")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)


def settle(seconds: float = 0.3) -> None:
    """Let the view lay out and paint (a photograph, not a test: time is fine here)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)


class Scene:
    def __init__(self) -> None:
        self.port, self.group_port = free_port(), free_port()
        self.group = f"239.255.{random.randint(1, 254)}.{random.randint(1, 254)}"
        self.server = subprocess.Popen(
            [sys.executable, "-m", "server_app", "--host", LOOPBACK, "--port", str(self.port),
             "--group", self.group, "--group-port", str(self.group_port),
             "--interface", LOOPBACK, "--ttl", "1", "--quiet"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert self.server.stdout is not None
        for line in self.server.stdout:
            if "is ready on" in line:
                break
        else:
            raise SystemExit("scene: the server did not start")
        self.windows: dict[str, ChatWindow] = {}

    def options(self, user: str) -> ClientOptions:
        # What the launcher tells a window of its own server (an older revision, run for
        # a "before" picture, has no such option).
        told = {"relay": RelayStyle.ATTRIBUTED} if "relay" in ClientOptions.__slots__ else {}
        return ClientOptions(
            LOOPBACK, self.port, self.group, self.group_port, LOOPBACK, user, **told
        )  # type: ignore[arg-type]

    def open(self, user: str, size: tuple[int, int]) -> ChatWindow:
        options = self.options(user)
        history = HistoryStore(HOME / f"{user}.sqlite3", options.conversation)
        chat = ChatWindow(options, history=history)
        chat.window.resize(*size)
        chat.window.show()
        chat.bridge.start()
        pump(lambda: chat.bridge.inChat, f"{user} in the chat")
        self.windows[user] = chat
        return chat

    def say(self, user: str, text: str) -> None:
        """``user`` types ``text``; a chat line is waited for in every window (a command,
        or a line refused as too long, only in the speaker's)."""
        chat = self.windows[user]
        before = chat.bridge.messages.total_appended
        chat.bridge.send(text)  # a refused line is shown too (in red)
        pump(lambda: chat.bridge.messages.total_appended > before, f"{user}'s line shown")
        if text.startswith("/") or len(text) > 1000:
            return
        for name, other in self.windows.items():
            model = other.bridge.messages
            pump(lambda m=model: any(m.line(row).line_text == text  # type: ignore[misc]
                                     for row in range(m.rowCount())),
                 f"{text!r} at {name}'s", timeout=30)  # fmt: skip

    def close(self) -> None:
        for chat in self.windows.values():
            chat.close()
        self.server.terminate()
        self.server.wait(10)


def photograph(chat: ChatWindow, path: Path) -> None:
    settle()
    image = chat.window.grabWindow()
    if not image.save(str(path)):
        raise SystemExit(f"scene: could not write {path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--readme", action="store_true", help="only the README's two: screenshot(-dark).png"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = QGuiApplication(["lanchat"])
    scene = Scene()
    try:
        alice = scene.open("alice", (900, 600))
        bob = scene.open("bob", (900, 600))
        scene.say("alice", "hi bob! welcome to the lab chat")
        scene.say("bob", "hello alice \u2014 caf\u00e9 after class?")
        scene.say("alice", "yes, 5 pm")
        bob.close()  # a restart: bob's window comes back with its history
        del scene.windows["bob"]
        settle(0.5)
        bob = scene.open("bob", (900, 600))
        scene.say("alice", "/nick alicia")
        pump(lambda: "alicia" in bob.bridge.users.users, "alicia in bob's list")
        for i in range(1, 21):
            scene.say("alice", f"quick line {i}")
        pump(lambda: any(bob.bridge.messages.line(row).line_text.endswith("quick line 20")
                         for row in range(bob.bridge.messages.rowCount())),
             "the quick lines at bob's", timeout=30)  # fmt: skip
        scene.say("bob", f"two links: {LINKS}")
        alice.bridge.send(PASTE)  # asks first: the dialog is in alice's window
        settle(0.5)
        if not args.readme:
            photograph(alice, args.out / "paste-dialog.png")  # also: alice's rename, one line
        QMetaObject.invokeMethod(alice.window.findChild(QObject, "pasteDialog"), "accept")
        pump(lambda: bob.bridge.messages.line(bob.bridge.messages.rowCount() - 1).line_text
             == "step 7: close the window", "the paste at bob's", timeout=30)  # fmt: skip
        field = bob.window.findChild(QQuickItem, "input")
        long_text = " ".join(["a line over the limit, typed on and on"] * 28)  # 1,091 bytes
        field.setProperty("text", long_text)  # the counter says how much too long
        bob.bridge.send(long_text)  # the offer: as two lines that fit
        settle(0.5)
        if not args.readme:
            photograph(bob, args.out / "split-offer.png")
        QMetaObject.invokeMethod(bob.window.findChild(QObject, "pasteDialog"), "reject")
        shots = [(900, 600, theme, 0) for theme in ("light", "dark")] if args.readme else [
            (w, h, theme, zoom) for w, h in SIZES for theme in ("light", "dark")
            for zoom in ZOOM_STEPS
        ]  # fmt: skip
        theme_object = bob.engine.singletonInstance("LanChatBackend", "Theme")
        sizes = bob.engine.singletonInstance("LanChat", "ChatSizes")
        from qml_client.theme import Theme

        for width, height, theme, zoom in shots:
            Theme.choice = theme
            theme_object.darkChanged.emit()
            sizes.setProperty("zoom", 1.15**zoom)
            bob.window.resize(width, height)
            if args.readme:
                name = "screenshot.png" if theme == "light" else "screenshot-dark.png"
            else:
                name = f"bob-{width}x{height}-{theme}-zoom{zoom:+d}.png"
            photograph(bob, args.out / name)
        Theme.choice = "light"  # a search of the kept history: its listing, a hit selected
        theme_object.darkChanged.emit()
        sizes.setProperty("zoom", 1.0)
        bob.window.resize(900, 600)
        field.setProperty("text", "")
        # Ctrl+F: the search bar, "café" typed, the history's lines asked for too
        QMetaObject.invokeMethod(bob.window.findChild(QObject, "searchBar"), "open")
        bob.window.findChild(QQuickItem, "searchField").setProperty("text", "café")
        bob.bridge.searchHistory("café")  # the history's lines listed, that listing shown
        pump(lambda: "match 'café'" in bob.bridge.messages.line(
            bob.bridge.messages.rowCount() - 1).line_text, "the history's listing")  # fmt: skip
        photograph(bob, args.out / ("screenshot-search.png" if args.readme else "search.png"))
        if not args.readme:  # the start of bob's view: his history, the day, the logins
            Theme.choice = "light"
            theme_object.darkChanged.emit()
            sizes.setProperty("zoom", 1.0)
            bob.window.resize(900, 600)
            settle()
            view = bob.window.findChild(QQuickItem, "messageView")
            QMetaObject.invokeMethod(view, "toFirst")
            photograph(bob, args.out / "bob-900x600-light-top.png")
            photograph(alice, args.out / "alice-900x600-light.png")
            bob.window.resize(420, 700)  # a narrow window: the people as a drawer over it
            QMetaObject.invokeMethod(view, "toLatest")
            bob.window.setProperty("peopleShown", True)
            photograph(bob, args.out / "bob-420x700-people.png")
            QMetaObject.invokeMethod(view, "scrollPages", Q_ARG("QVariant", -1))  # "Jump"
            photograph(bob, args.out / "bob-420x700-jump.png")
        print(f"scene: {len(shots) + (1 if args.readme else 7)} pictures in {args.out}")
    finally:
        scene.close()
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
