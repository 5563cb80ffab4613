"""A real window (offscreen) inside a test's network namespace: it opens on nothing, finds
the chat announced on the LAN, joins it with the Join button's path, and says when.

    python -m tests.peers.join_child USER     (prints FOUND <s>, IN_CHAT <s>, NAMED <s>)

The times are from the window's start: what the issue asks to be measured.
"""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtGui import QGuiApplication

from qml_client.app import CurrentWindow, open_window
from qml_client.cli import ClientOptions
from qml_client.settings import SettingsStore
from tests.peers.qt import pump


def main() -> int:
    user = sys.argv[1]
    app = QGuiApplication(["lanchat"])
    store = SettingsStore.default()
    started = time.monotonic()
    # A window on no server (a port nobody serves; its login goes unanswered): what a
    # student sees before joining, name typed.
    chat, _ = open_window(ClientOptions(port=9, user=user), {"user"}, store)
    current = CurrentWindow(chat, store, app)
    chat.window.show()
    chat.bridge.start()
    chats = chat.bridge.chats
    if not pump(lambda: chats.count > 0):
        print("NOT FOUND", flush=True)
        return 1
    print(f"FOUND {time.monotonic() - started:.2f} {chats.record(0)}", flush=True)
    picture = os.environ.get("LANCHAT_START_VIEW_PNG")  # the README's picture of it
    if picture:
        chat.window.resize(900, 600)
        pump(lambda: False, 1.0)  # laid out and painted (a picture, not a test)
        chat.window.grabWindow().save(picture)
    chat.bridge.join(0)  # what the Join button calls
    if not pump(lambda: current.chat is not chat and current.chat.bridge.inChat):
        print("NOT IN CHAT", flush=True)
        return 1
    print(f"IN_CHAT {time.monotonic() - started:.2f}", flush=True)
    remembered = store.load()[0].titles or {}
    print(f"TITLE {current.chat.window.title()} | {sorted(remembered.values())}", flush=True)
    model = current.chat.bridge.messages
    if not pump(lambda: any(model.line(r).sender == "alice" for r in range(model.rowCount()))):
        print("NOT NAMED", flush=True)
        return 1
    print(f"NAMED {time.monotonic() - started:.2f}", flush=True)
    current.chat.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
