"""Test-wide setup: Qt headless before any Qt import, all traffic on loopback.

The shared fixtures live here, once: ``server_process`` (our real server as a
subprocess on loopback) and ``fake_server`` (a socket standing in for a server,
for the Qt client's tests).  A module that calls either one ``server`` aliases it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.helpers_net import ServerProcess
    from tests.qt_helpers import FakeServer

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Clients started by tests (in process or as ``python -m qml_client``) remember their
# settings here, never in the home directory of whoever runs the tests.
_STATE = tempfile.mkdtemp(prefix="lanchat-tests-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_STATE, "config")
os.environ["XDG_DATA_HOME"] = os.path.join(_STATE, "data")
os.environ["XDG_RUNTIME_DIR"] = os.path.join(_STATE, "runtime")  # names windows hold
# No mDNS from servers and windows the tests start (it would reach the real network): the
# discovery tests turn it on inside their network namespaces (tests/test_discovery.py).
os.environ["LANCHAT_NO_MDNS"] = "1"


# Whole modules that need neither multicast on loopback, nor Linux, nor a display: the
# Windows and macOS workflow (.github/workflows/portable.yml) runs ``-m portable``.
# Tests of other modules that run there are marked one by one.
PORTABLE_MODULES = {
    "test_wire.py", "test_session.py", "test_server_core.py", "test_server_core_stateful.py",
    "test_client_core.py", "test_federation_core.py", "test_ratelimit.py", "test_options.py",
    "test_logfmt.py", "test_presenter.py", "test_inbox.py", "test_wakeups.py",
    "test_no_console.py",
}  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in PORTABLE_MODULES:
            item.add_marker(pytest.mark.portable)


@pytest.fixture(scope="session")
def qapp_cls():
    """The client is QML-only: a QGuiApplication, not a QApplication."""
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication


@pytest.fixture
def server_process() -> Iterator[ServerProcess]:
    from tests.helpers_net import running_server

    with running_server() as server:
        yield server


@pytest.fixture
def fake_server(qtbot) -> Iterator[FakeServer]:
    from tests.qt_helpers import FakeServer

    server = FakeServer(qtbot)
    yield server
    server.close()
