"""A real window (offscreen) inside a test's network namespace, started as lanchat-client
starts (the command line's options over the remembered ones, a remembered name logs in),
driven on stdin as a person drives it, one command a line; each command is answered with
one JSON line ``{"cmd", "ok", "state"}`` (``ok`` False: it did not happen in time).

    python -m tests.peers.lesson_window [lanchat-client options]

    host TITLE            Host a chat (the button's path); answered once in that chat
    join                  Join the first chat found (the Join button's path), once in it
    say TEXT              what Enter in the input sends (commands too: /nick, /search)
    until SECONDS EXPR    answered once EXPR (Python over ``s``, the state) holds
    state                 answered with the state
    end                   End the chat (the hosting window closed, confirmed); then exits
    quit                  close the window (exit is sent); then exits

The state is what a person sees: the status line's text, the people, the lines (kind,
sender, text, mark), the chats offered, the search bar's hit count, and the doctor's
diagnosis keys (its paragraphs are lines).  The event loop is the application's own
(``app.exec``): commands are read in a thread and taken by a timer.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from typing import Any

import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtQuick import QQuickItem

from qml_client.app import CurrentWindow, make_application, open_window
from qml_client.cli import given_options, parse_options
from qml_client.settings import SettingsStore


def state(current: CurrentWindow) -> dict[str, Any]:
    chat = current.chat
    bridge = chat.bridge
    model = bridge.message_model
    status = chat.window.findChild(QQuickItem, "statusLine")
    rows = [model.line(r) for r in range(model.rowCount())]
    return {
        "status": status.property("text") if status is not None else "",
        "in_chat": bool(bridge.inChat),
        "answering": bool(bridge.answering),
        "hosting": bool(bridge.hosting),
        "people": sorted(bridge.user_model.users),
        "lines": [
            {
                "kind": str(line.kind),
                "sender": line.sender,
                "text": line.line_text,
                "mark": str(line.status or ""),
                "at": line.at,
            }
            for line in rows
        ],
        "chats": [bridge.chats.record(i).title for i in range(bridge.chats.count)],
        "hits": bridge.hits.count,
        "diagnoses": list(bridge.diagnoses),
        "title": chat.window.title(),
        "invite": bridge.options.web_url,
    }


class Driven:
    """The commands, taken one at a time between the application's events."""

    def __init__(self, current: CurrentWindow, app: QGuiApplication) -> None:
        self.current = current
        self.app = app
        self.commands: queue.Queue[str] = queue.Queue()
        self.waiting: tuple[str, float, Any] | None = None  # (command, deadline, until)
        threading.Thread(target=self._read, daemon=True).start()
        self.timer = QTimer()
        self.timer.timeout.connect(self.step)
        self.timer.start(20)

    def _read(self) -> None:
        for line in sys.stdin:
            self.commands.put(line.rstrip("\n"))
        self.commands.put("quit")  # the test went away

    def answer(self, cmd: str, ok: bool) -> None:
        print(json.dumps({"cmd": cmd, "ok": ok, "state": state(self.current)}), flush=True)

    def wait(self, cmd: str, seconds: float, until: Any) -> None:
        self.waiting = (cmd, time.monotonic() + seconds, until)

    def step(self) -> None:
        if self.waiting is not None:
            cmd, deadline, until = self.waiting
            held = bool(until())
            if held or time.monotonic() > deadline:
                self.waiting = None
                self.answer(cmd, held)
            return
        try:
            line = self.commands.get_nowait()
        except queue.Empty:
            return
        word, _, rest = line.partition(" ")
        bridge = self.current.chat.bridge
        if word == "host":
            first = self.current.chat
            bridge.host(rest)
            self.wait(line, 20.0, lambda: self.current.chat is not first
                      and self.current.chat.bridge.inChat)  # fmt: skip
        elif word == "join":
            first = self.current.chat

            def joined() -> bool:
                if self.current.chat is first and first.bridge.chats.count > 0:
                    first.bridge.join(0)
                return self.current.chat is not first and self.current.chat.bridge.inChat

            self.wait(line, 20.0, joined)
        elif word == "say":
            bridge.send(rest)
            self.answer(line, True)
        elif word == "until":
            seconds, _, expression = rest.partition(" ")
            code = compile(expression, "<until>", "eval")
            self.wait(line, float(seconds), lambda: eval(code, {"s": state(self.current)}))
        elif word == "state":
            self.answer(line, True)
        elif word in ("end", "quit"):
            root = self.current.chat.window
            root.setProperty("endConfirmed", word == "end")
            root.close()
            self.answer(line, not root.isVisible())
            self.app.quit()
        else:
            print(json.dumps({"cmd": line, "ok": False, "error": "unknown command"}), flush=True)


def main() -> int:
    argv = sys.argv[1:]
    options = parse_options(argv)
    app = make_application()
    store = SettingsStore.default()
    chat, _ = open_window(options, given_options(argv), store)
    current = CurrentWindow(chat, store, app)
    chat.window.show()
    chat.bridge.start()
    driven = Driven(current, app)
    print(json.dumps({"cmd": "started", "ok": True, "state": state(current)}), flush=True)
    app.exec()
    driven.timer.stop()
    current.chat.bridge.shutdown()
    current.stop_hosting()
    shiboken6.delete(current.chat.engine)  # while the application exists (app.run's reason)
    print(json.dumps({"cmd": "exited", "ok": True}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
