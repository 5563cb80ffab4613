"""Test-wide setup: Qt headless before any Qt import, all traffic on loopback."""

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def qapp_cls():
    """The client is QML-only: a QGuiApplication, not a QApplication."""
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication
