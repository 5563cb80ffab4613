"""Desktop notifications for lines that mention the user. No Qt here.

Sent with ``notify-send`` (libnotify's client of the freedesktop notification
service over D-Bus), started without waiting; where it is not installed, or no
notification service answers, nothing happens: a chat must work on a bare
machine.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Protocol


class Notifier(Protocol):
    def notify(self, summary: str, body: str) -> bool: ...


class DesktopNotifier:
    """freedesktop notifications through ``notify-send``, if it is there."""

    def __init__(self) -> None:
        self.command = shutil.which("notify-send")

    def notify(self, summary: str, body: str) -> bool:
        """Ask for a notification; False where none can be shown."""
        if self.command is None:
            return False
        try:
            subprocess.Popen(
                [self.command, "--app-name=lanchat", "--icon=lanchat", "--", summary, body],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        except OSError:
            return False
        return True
