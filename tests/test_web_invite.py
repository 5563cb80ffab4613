"""The window's "Invite phones" (issue 27): shown when a web gateway is announced with the
chat (or runs with the chat this window hosts), with the page's address and a QR code the
gateway serves; a real gateway on loopback, the window offscreen."""

from __future__ import annotations

import dataclasses

import pytest

pytest.importorskip("aiohttp")

from PySide6.QtCore import QMetaObject, QObject

from tests.helpers_net import WAIT_MS
from tests.helpers_web import gateway_for
from tests.qt_helpers import chat_window, item, log_in, qml_value, text_of


def test_invite_phones_shows_the_pages_address_and_its_qr_code(qtbot, fake_server):
    with gateway_for(
        ("127.0.0.1", fake_server.port), fake_server.group, fake_server.group_port
    ) as gw:
        options = dataclasses.replace(fake_server.options(), web_url=gw.url)
        with chat_window(qtbot, options) as chat:
            button = item(chat, "inviteButton")
            assert not button.isVisible()  # not in the chat: its page is not offered
            log_in(qtbot, chat, fake_server)
            qtbot.waitUntil(button.isVisible, timeout=WAIT_MS)
            dialog = chat.window.findChild(QObject, "inviteDialog")
            QMetaObject.invokeMethod(dialog, "open")
            qtbot.waitUntil(lambda: dialog.property("opened"), timeout=WAIT_MS)
            code = chat.window.findChild(QObject, "inviteCode")
            assert code.property("source").toString() == gw.url + "qr.png"
            ready = "status === Image.Ready"
            qtbot.waitUntil(lambda: qml_value(code, ready), timeout=WAIT_MS)
            assert qml_value(code, "sourceSize.width") > 100  # the PNG the gateway drew
            assert text_of(chat.window.findChild(QObject, "inviteAddress")) == gw.url
            QMetaObject.invokeMethod(dialog, "close")


def test_no_gateway_no_invite(qtbot, fake_server):
    with chat_window(qtbot, fake_server.options()) as chat:
        assert not item(chat, "inviteButton").isVisible()
