"""What the Qt children of the namespace tests share."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEventLoop


def pump(until: Callable[[], object], timeout: float = 15.0) -> bool:
    """Run the event loop until ``until()`` holds (True) or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            return False
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
    return True
