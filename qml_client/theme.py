"""Light or dark: the one decision the palette (ChatColors.qml) reads.

``auto`` follows the desktop's colour scheme as Qt's style hints report it, and
changes with it; ``light`` and ``dark`` (``--theme``) force a variant.  Decided
here in Python, not by asking Qt to change the scheme, which platforms without
a theme (offscreen, bare X11) ignore.
"""

from __future__ import annotations

from PySide6.QtCore import Property, QObject, Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtQml import QmlElement, QmlSingleton

QML_IMPORT_NAME = "LanChatBackend"
QML_IMPORT_MAJOR_VERSION = 1

THEMES = ("auto", "light", "dark")


@QmlElement
@QmlSingleton
class Theme(QObject):
    """``Theme.dark`` and ``Theme.fixedFamily`` in QML; set ``Theme.choice`` before the
    first window is loaded."""

    choice = "auto"  # what --theme asked for
    darkChanged = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Signal to signal: Qt drops the connection when this singleton goes with its engine.
        QGuiApplication.styleHints().colorSchemeChanged.connect(self.darkChanged)

    def _get_dark(self) -> bool:
        if Theme.choice in ("light", "dark"):
            return Theme.choice == "dark"
        return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark

    dark = Property(bool, _get_dark, notify=darkChanged)

    def _get_fixed_family(self) -> str:
        """The system's fixed-width family (Consolas, Menlo, DejaVu Sans Mono, ...)."""
        return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).family()

    fixedFamily = Property(str, _get_fixed_family, constant=True)
