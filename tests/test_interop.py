"""Interoperability: our client with other people's servers, our server with their client."""

from __future__ import annotations

import pytest

from qml_client.cli import ClientOptions
from tests.helpers_net import LOOPBACK, WAIT_MS, free_udp_port, running_server, unique_group
from tests.peers.client import PeerClient
from tests.peers.servers import PeerServer
from tests.qt_helpers import chat_window, lines, type_line


@pytest.fixture
def peer_server(request):
    group, group_port = unique_group(), free_udp_port()
    server = PeerServer(request.param, LOOPBACK, group, group_port, LOOPBACK)
    options = ClientOptions(LOOPBACK, server.addr[1], group, group_port, LOOPBACK)
    yield server, options
    server.close()


def _has_line(chat, direction: str, text: str) -> bool:
    return any(d == direction and t == text for d, _, t, _ in lines(chat))


@pytest.mark.parametrize(
    ("peer_server", "roster_after_login", "raw_list"),
    [
        ("classic", ("bob",), None),
        ("unicast-list", ("bob",), None),
        ("no-sender", ("bob",), None),
        ("dict-list", ("bob",), "list,{('127.0.0.1', PORT): 'bob'}"),
        ("text-list", ("bob",), "list,User list: bob"),
    ],
    indirect=["peer_server"],
)
def test_our_client_with_their_server(qtbot, peer_server, roster_after_login, raw_list):
    server, options = peer_server
    with chat_window(qtbot, options) as chat:
        type_line(chat, "login,bob")
        qtbot.waitUntil(lambda: chat.bridge.state == "in chat", timeout=WAIT_MS)
        if raw_list is None:
            qtbot.waitUntil(lambda: server.users != {}, timeout=WAIT_MS)
        else:  # a list reply that is no name list: shown raw, the roster left alone
            port = chat.bridge.driver.sock.getsockname()[1]
            expected = raw_list.replace("PORT", str(port))
            qtbot.waitUntil(lambda: _has_line(chat, "raw", expected), timeout=WAIT_MS)
        assert chat.bridge.user_model.users == roster_after_login

        type_line(chat, "hi, all \u2603")
        qtbot.waitUntil(
            lambda: [s for d, _, _, s in lines(chat) if d == "out"] == ["delivered"],
            timeout=WAIT_MS,
        )

        other = PeerClient(server.addr, options.group, options.group_port, LOOPBACK)
        try:
            other.send("login,alice")
            qtbot.waitUntil(lambda: "alice" in chat.bridge.user_model.users, timeout=WAIT_MS)
            other.send("msg,hello bob")
            sender = "" if server.variant == "no-sender" else "alice"
            qtbot.waitUntil(lambda: ("in", sender, "hello bob", "") in lines(chat), timeout=WAIT_MS)
            other.send("exit,")
            qtbot.waitUntil(lambda: _has_line(chat, "system", "alice left"),
                            timeout=WAIT_MS)  # fmt: skip
        finally:
            other.close()
        type_line(chat, "exit,")
        qtbot.waitUntil(lambda: chat.bridge.state == "logged out", timeout=WAIT_MS)


@pytest.fixture
def our_server():
    with running_server() as server:
        yield server


def peer(server) -> PeerClient:
    return PeerClient(server.addr, server.group, server.group_port, LOOPBACK)


def test_their_client_with_our_server(our_server):
    a, b = peer(our_server), peer(our_server)
    try:
        a.send("login,bob")
        a.expect(b"welcome,bob")
        b.send("LOGIN ,x")  # case and blank variants of the type
        b.expect(b"welcome,bob")
        b.expect(b"welcome,x")
        a.send("msg,hi, both of you")
        for c in (a, b):
            c.expect(b"msg,bob: hi, both of you")
        b.send("list,")
        for c in (a, b):  # on the group: the only place student clients read
            c.expect(b"list,bob,x")
        a.send("hello")  # no comma
        b.send("help,")  # unknown type
        our_server.wait_for_line(r"rejected datagram from bob@.*: no-comma")
        our_server.wait_for_line(r"rejected datagram from x@.*: unknown-type")
        longest = "y" * (1024 - len("msg,bob: "))
        a.send(f"msg,{longest}")
        b.expect(f"msg,bob: {longest}".encode())  # 1024 bytes: nothing cut by recvfrom(1024)
        a.send("msg," + "z" * (1024 - len("msg,")))  # would relay over 1024: refused
        our_server.wait_for_line(r"rejected datagram from bob@.*: relay-too-long")
        b.send("exit,x")  # exit,<user> as some clients send it
        a.expect(b"bye,x")
    finally:
        a.close()
        b.close()


def test_their_client_restarted_without_exit_takes_its_name_back(our_server):
    first, watcher = peer(our_server), peer(our_server)
    try:
        first.send("login,bob")
        watcher.expect(b"welcome,bob")
        first.close()  # the window closed without sending exit: a ghost
        again = peer(our_server)
        try:
            again.send("login,bob")
            watcher.expect(b"welcome,bob")
            our_server.wait_for_line(r"login request has arrived from bob@.*takes the name over")
            again.send("msg,back again")
            watcher.expect(b"msg,bob: back again")
            watcher.send("login,w")
            watcher.send("list,")
            watcher.expect(b"list,bob,w")
        finally:
            again.close()
    finally:
        watcher.close()
