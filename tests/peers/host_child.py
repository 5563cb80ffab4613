"""A real window (offscreen) inside a test's network namespace presses Host a chat: our
server starts in this process, announced, and the window joins it.  Prints HOSTING
<address:port> when in the chat, then waits for a line on stdin and closes (the chat ends).

    python -m tests.peers.host_child NAME TITLE
"""

from __future__ import annotations

import sys
import threading

from PySide6.QtGui import QGuiApplication

from qml_client.app import CurrentWindow, open_window
from qml_client.cli import ClientOptions
from qml_client.settings import SettingsStore
from tests.peers.qt import pump


def main() -> int:
    name, title = sys.argv[1], sys.argv[2]
    app = QGuiApplication(["lanchat"])
    store = SettingsStore.default()
    chat, _ = open_window(ClientOptions(port=9, user=name), {"user"}, store)
    current = CurrentWindow(chat, store, app)
    chat.window.show()
    chat.bridge.start()
    chat.bridge.host(title)  # what the Host a chat button calls
    if not pump(lambda: current.chat is not chat and current.chat.bridge.inChat):
        print("NOT HOSTING", flush=True)
        return 1
    options = current.chat.bridge.options
    print(f"HOSTING {options.server}:{options.port} {current.chat.bridge.hosting}", flush=True)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), done.set()), daemon=True).start()
    pump(done.is_set, 60.0)
    current.chat.close()
    current.stop_hosting()
    print("ENDED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
