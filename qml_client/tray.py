"""Notifications through the system tray, where ``notify-send`` is not there.

Windows shows ``QSystemTrayIcon.showMessage`` as a toast in its notification centre,
macOS in Notification Center, and an X11 desktop with a tray but without a
freedesktop notification service as a balloon beside the icon.  The tray needs
QtWidgets' application object, so the client makes a ``QApplication`` (instead of a
``QGuiApplication``) only when this is how it will notify (app.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

ICON = Path(__file__).resolve().parent / "desktop" / "lanchat.svg"
SHOWN_MS = 10_000  # how long a message stays where the OS lets an application say


class TrayNotifier:
    """A tray icon, made at the first notification, that shows each one as a message.

    ``activate`` runs when the user clicks a message (the window comes forward)."""

    def __init__(self, activate: Callable[[], None] | None = None) -> None:
        self.activate = activate
        self.icon: QSystemTrayIcon | None = None

    @staticmethod
    def available() -> bool:
        """A QApplication is running and the desktop has a tray to show messages from."""
        return (
            isinstance(QCoreApplication.instance(), QApplication)
            and QSystemTrayIcon.isSystemTrayAvailable()
        )

    def notify(self, summary: str, body: str) -> bool:
        if not self.available():
            return False
        if self.icon is None:
            self.icon = QSystemTrayIcon(QIcon(str(ICON)), QCoreApplication.instance())
            self.icon.setToolTip("lanchat")
            self.icon.messageClicked.connect(self._clicked)
            self.icon.show()
        self.icon.showMessage(summary, body, QSystemTrayIcon.MessageIcon.Information, SHOWN_MS)
        return True

    def _clicked(self) -> None:
        if self.activate is not None:
            self.activate()

    def close(self) -> None:
        """Take the icon out of the tray (it would stay until the process ends)."""
        if self.icon is not None:
            self.icon.hide()
            self.icon.deleteLater()
            self.icon = None
