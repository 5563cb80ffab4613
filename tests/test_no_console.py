"""Started without a console (pythonw on Windows: ``sys.stdout`` and ``sys.stderr`` are
None), the client shows what it would have printed in a message box: a bad option, the
help.  Before, such a start did nothing at all, visibly.  Real Qt message boxes
(offscreen), read and closed by a timer in the child, as a user would read and close them.
"""

from __future__ import annotations

import json
import os

from tests.helpers_net import fresh_python

CHILD = """
import json, sys
real = sys.stdout
sys.stdout = sys.stderr = None  # what pythonw gives a program
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
app = QApplication(["lanchat"])
seen = []
def look():
    for widget in app.topLevelWidgets():
        if isinstance(widget, QMessageBox) and widget.isVisible():
            seen.append({"text": widget.text(), "icon": widget.icon().name})
            widget.accept()
            return
    QTimer.singleShot(20, look)
QTimer.singleShot(0, look)
from qml_client.__main__ import main
code = main(sys.argv[1:])
real.write(json.dumps({"code": code, "boxes": seen}))
"""


def run_without_console(*args: str) -> dict:
    result = fresh_python(CHILD, *args, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_bad_option_is_shown_in_a_message_box():
    got = run_without_console("--port", "0")
    assert got["code"] == 2
    (box,) = got["boxes"]
    assert box["icon"] == "Critical"
    assert box["text"].startswith("lanchat-client: ") and "port" in box["text"], box


def test_the_help_is_shown_in_a_message_box():
    got = run_without_console("--help")
    assert got["code"] == 0
    (box,) = got["boxes"]
    assert box["icon"] == "Information" and box["text"].startswith("usage: lanchat-client")
