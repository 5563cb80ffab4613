"""Test-wide setup: Qt headless before any Qt import, all traffic on loopback."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
