"""A real client window on a real X server (Xvfb) whose desktop has a tray and no
notify-send: logs in, goes to the background, and reports the tray's message.

``python -m tests.tray_child PORT GROUP GROUP_PORT STATE_DIR SHOT``; prints ``READY``
once alice is in the chat and another window has the focus, then ``BALLOON <texts>``
when the tray shows a message (or ``NO BALLOON`` after the wait), and exits.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QSystemTrayIcon, QWidget

from qml_client.app import make_application, open_window
from qml_client.cli import ClientOptions
from qml_client.name_hold import NameHold
from qml_client.settings import SettingsStore
from qml_client.tray import TrayNotifier

WAIT = 20.0


def main() -> int:
    port, group, group_port, state, shot = sys.argv[1:6]
    app = make_application()
    assert isinstance(app, QApplication), "no notify-send: the tray needs a QApplication"
    deadline = time.monotonic() + WAIT
    while not QSystemTrayIcon.isSystemTrayAvailable():  # the tray may still be starting
        assert time.monotonic() < deadline, "no system tray on this display"
        app.processEvents()
        time.sleep(0.05)
    here = Path(state)
    options = ClientOptions("127.0.0.1", int(port), group, int(group_port), "127.0.0.1", "alice")
    chat, _ = open_window(
        options, {"user"}, SettingsStore(here / "settings.json"), here / "history.sqlite3",
        NameHold(here / "names"),
    )  # fmt: skip
    assert isinstance(chat.bridge.notifier, TrayNotifier)
    chat.window.show()
    chat.bridge.start()
    other = QWidget()  # the user goes to another window
    other.setWindowTitle("another program")
    other.resize(300, 200)

    phase = {"now": "login"}  # login -> in front -> in the back (READY) -> message

    def step() -> None:
        if time.monotonic() > deadline:
            print(f"NO BALLOON (stuck at {phase['now']})", flush=True)
            app.exit(1)
            return
        if phase["now"] == "login" and chat.bridge.state == "in chat":
            chat.window.requestActivate()  # the user reads the chat...
            phase["now"] = "in front"
        elif phase["now"] == "in front" and chat.window.isActive():
            other.show()  # ...then goes to another program
            other.activateWindow()
            phase["now"] = "to the back"
        elif phase["now"] == "to the back" and not chat.window.isActive():
            phase["now"] = "in the back"
            print("READY", flush=True)
        elif phase["now"] == "in the back":
            for widget in app.topLevelWidgets():
                if widget.metaObject().className() == "QBalloonTip" and widget.isVisible():
                    texts = [label.text() for label in widget.findChildren(QLabel)]
                    app.primaryScreen().grabWindow(0).save(shot)
                    print("BALLOON " + " | ".join(t for t in texts if t), flush=True)
                    app.exit(0)
                    return
        QTimer.singleShot(50, step)

    QTimer.singleShot(0, step)
    code = app.exec()
    chat.bridge.shutdown()
    chat.bridge.notifier.close()
    import shiboken6

    shiboken6.delete(chat.engine)
    return code


if __name__ == "__main__":
    sys.exit(main())
