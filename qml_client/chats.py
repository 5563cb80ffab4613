"""The chats announced on this network, for the window's start view (issue 26).

``ChatFinder`` browses DNS-SD in zeroconf's thread and hands each new list to the GUI
thread by a queued signal; only the GUI thread touches ``ChatsModel``.  Join asks the app
for a window on that chat (``ChatBridge.joinRequested``), with the record's relay style, so
our own servers' senders are named from the first line.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from protocol_lib.io.discovery import Browser

from .models import ChatsModel


class ChatFinder(QObject):
    """Browses while the window is open; ``problem`` says why it cannot (shown once)."""

    _found = Signal(object)  # emitted in zeroconf's thread, delivered in the GUI thread

    def __init__(self, model: ChatsModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._browser: Browser | None = None
        self._found.connect(model.set_records)

    def start(self, interfaces: list[str] | None = None) -> str | None:
        browser = Browser(self._found.emit, interfaces)
        problem = browser.start()
        if problem is None:
            self._browser = browser
        return problem

    def close(self) -> None:
        """Stop browsing (before the application goes: zeroconf's thread signals here)."""
        browser, self._browser = self._browser, None
        if browser is not None:
            browser.close()
