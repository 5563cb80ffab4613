"""Driving a real chat window in tests: typing, waiting, reading the view."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, QPoint, Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtQml import QQmlEngine, QQmlExpression
from PySide6.QtQuick import QQuickItem
from PySide6.QtTest import QTest
from pytestqt.exceptions import TimeoutError as QtBotTimeout

from protocol_lib import ClientConfig
from qml_client.app import ChatWindow
from qml_client.cli import ClientOptions
from tests.helpers_net import (
    LOOPBACK,
    WAIT,
    WAIT_MS,
    GroupSender,
    UdpClient,
    free_udp_port,
    unique_group,
)


class FakeServer:
    """A plain UDP socket standing in for a server: records what clients send,
    plays the server's multicast side through a GroupSender pinned to 127.0.0.1."""

    def __init__(self, qtbot) -> None:
        self.qtbot = qtbot
        self.inbox = UdpClient(("0.0.0.0", 0))  # bound on 127.0.0.1; its peer is unused
        self.inbox.sock.setblocking(False)
        self.group = unique_group()
        self.group_port = free_udp_port()
        self.multicast = GroupSender(self.group, self.group_port)

    @property
    def port(self) -> int:
        return self.inbox.addr[1]

    def options(self, user: str | None = None) -> ClientOptions:
        return ClientOptions(LOOPBACK, self.port, self.group, self.group_port, LOOPBACK, user)

    def expect(self, wanted: bytes) -> tuple[str, int]:
        """Wait for ``wanted`` from a client, skipping anything else; return its address.

        The Qt event loop keeps running meanwhile (the client's timers and its
        worker's hand-overs need it), so this waits with qtbot, not in recv.
        """
        seen: list[bytes] = []
        found: list[tuple[str, int]] = []

        def arrived() -> bool:
            while not found:
                try:
                    data, addr = self.inbox.sock.recvfrom(65536)
                except BlockingIOError:
                    return False
                if data == wanted:
                    found.append(addr)
                else:
                    seen.append(data)
            return True

        try:
            self.qtbot.waitUntil(arrived, timeout=WAIT_MS)
        except QtBotTimeout:
            raise AssertionError(f"{wanted!r} not received; got {seen!r}") from None
        return found[0]

    def to_group(self, data: bytes) -> None:
        self.multicast.send(data)

    def close(self) -> None:
        self.inbox.close()
        self.multicast.close()


def type_line(window: ChatWindow, text: str, enter: bool = True) -> None:
    """Type into the focused input field of the window, key by key, then Enter.

    With several windows open, only the active one has an item with active
    focus, so the window is activated first (as a click into it would).
    """
    _activate(window)
    for ch in text:
        if ch.isascii() and ch.isprintable():
            QTest.keyClick(window.window, ch)
        else:  # QTest only maps ASCII to keys; a key event carries any text
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                event = QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, ch)
                QGuiApplication.sendEvent(window.window, event)
    if enter:
        QTest.keyClick(window.window, Qt.Key.Key_Return)


def _activate(window: ChatWindow) -> None:
    win = window.window
    if win.isActive():
        return
    win.requestActivate()
    deadline = time.monotonic() + WAIT
    while not win.isActive():
        assert time.monotonic() < deadline, "the window could not be activated"
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def item(window: ChatWindow, name: str) -> QQuickItem:
    found = window.window.findChild(QQuickItem, name)
    assert found is not None, f"no item {name!r}"
    return found


def lines(window: ChatWindow) -> list[tuple[str, str, str, str]]:
    """(kind, sender, text, status) of every line in the message model, as strings."""
    model = window.bridge.message_model
    out = []
    for row in range(model.rowCount()):
        line = model.line(row)
        out.append((str(line.kind), line.sender, line.line_text, str(line.status or "")))
    return out


@contextmanager
def chat_window(
    qtbot, options: ClientOptions, config: ClientConfig | None = None
) -> Iterator[ChatWindow]:
    """A started client window; its worker is always stopped at the end."""
    chat = ChatWindow(options, config)
    chat.window.show()
    qtbot.waitExposed(chat.window)
    chat.bridge.start()
    field = item(chat, "input")
    qtbot.waitUntil(field.hasActiveFocus, timeout=WAIT_MS)
    try:
        yield chat
    finally:
        chat.close()  # idempotent: a test may have shut the bridge down already


def log_in(qtbot, chat: ChatWindow, server: FakeServer, name: str = "bob") -> tuple[str, int]:
    """Type the login, answer it as a server would; return the client's address."""
    type_line(chat, f"login,{name}")
    addr = server.expect(f"login,{name}".encode())
    server.to_group(f"welcome,{name}".encode())
    qtbot.waitUntil(lambda: chat.bridge.state == "in chat", timeout=WAIT_MS)
    server.expect(b"list,")  # the client asks for the roster after its own welcome
    return addr


def text_of(obj: QObject, prop: str = "text") -> str:
    return str(obj.property(prop))


def echo_first_line(qtbot, chat: ChatWindow, server: FakeServer, name: str = "bob") -> None:
    """Say a line and echo it back attributed, as our server does: from then on the
    client credits others' lines to the senders in its roster."""
    type_line(chat, "first line")
    server.expect(b"msg,first line")
    server.to_group(f"msg,{name}: first line".encode())
    qtbot.waitUntil(
        lambda: ("out", name, "first line", "delivered") in lines(chat), timeout=WAIT_MS
    )


def centre_of(obj: QQuickItem) -> QPoint:
    """The middle of ``obj`` in window coordinates, where a test clicks it."""
    return obj.mapToScene(obj.boundingRect().center()).toPoint()


def laid_out_around(obj: QQuickItem) -> bool:
    """Whether ``obj``'s middle lies inside every item that holds it, as a click there
    needs: a delegate can be in sight a moment before its layout is done (a Row still
    0x0, the line's height not yet grown to hold it), and a click then finds nothing."""
    point = obj.mapToScene(obj.boundingRect().center())
    node: QQuickItem | None = obj
    while node is not None:
        if not node.contains(node.mapFromScene(point)):
            return False
        node = node.parentItem()
    return True


def qml_value(obj: QObject, expression: str) -> object:
    """``expression`` evaluated in the QML context of ``obj`` (attached properties, enums and
    singletons too, which PySide6 cannot read or convert directly)."""
    expr = QQmlExpression(QQmlEngine.contextForObject(obj), obj, expression)
    value, failed = expr.evaluate()
    assert not failed, expr.error().toString()
    return value
