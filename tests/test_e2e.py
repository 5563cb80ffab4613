"""End to end: a real server process and real client windows (worker threads, Qt offscreen)."""

from __future__ import annotations

import pytest

from protocol_lib import ClientConfig
from qml_client.cli import ClientOptions
from tests.helpers_net import LOOPBACK, WAIT_MS, ServerProcess
from tests.qt_helpers import chat_window, lines, type_line


def options_for(server: ServerProcess) -> ClientOptions:
    return ClientOptions(LOOPBACK, server.port, server.group, server.group_port, LOOPBACK)


def wait_in_chat(qtbot, chat) -> None:
    qtbot.waitUntil(lambda: chat.bridge.state == "in chat", timeout=WAIT_MS)


def wait_line(qtbot, chat, row) -> None:
    qtbot.waitUntil(lambda: row in lines(chat), timeout=WAIT_MS)


def speak_first(qtbot, chat, text: str = "hi all") -> None:
    """Say a line and wait for its echo: from then on the client knows how the server
    relays and credits others' lines to their senders (before, it credits nobody)."""
    type_line(chat, text)
    wait_line(qtbot, chat, ("out", chat.bridge.user, text, "delivered"))


def wait_roster(qtbot, chat, users) -> None:
    qtbot.waitUntil(lambda: chat.bridge.user_model.users == users, timeout=WAIT_MS)


@pytest.fixture
def server(server_process):
    return server_process


def test_two_clients_chat_list_and_leave(qtbot, server):
    with (
        chat_window(qtbot, options_for(server)) as alice,
        chat_window(qtbot, options_for(server)) as bob,
    ):
        type_line(alice, "/login alice")
        wait_in_chat(qtbot, alice)
        type_line(bob, "login,bob")
        wait_in_chat(qtbot, bob)
        wait_line(qtbot, alice, ("system", "", "bob joined", ""))
        wait_roster(qtbot, bob, ("alice", "bob"))  # from the list bob asked for after login
        wait_roster(qtbot, alice, ("alice", "bob"))
        speak_first(qtbot, bob)

        text = "hello, bob \u2014 \u00e7a va? \u4f60\u597d"
        type_line(alice, text)
        wait_line(qtbot, bob, ("in", "alice", text, ""))
        wait_line(qtbot, alice, ("out", "alice", text, "delivered"))

        type_line(bob, "/list")
        server.wait_for_line(r"list request has arrived from user: bob@")
        type_line(bob, "exit,")
        wait_line(qtbot, alice, ("system", "", "bob left", ""))
        wait_roster(qtbot, alice, ("alice",))
        assert bob.bridge.state == "logged out"
        type_line(alice, "/list")
        server.wait_for_line(r"list request has arrived from user: alice@")
        wait_roster(qtbot, alice, ("alice",))


def test_restarted_client_takes_its_name_back(qtbot, server):
    with chat_window(qtbot, options_for(server)) as watcher:
        type_line(watcher, "/login watcher")
        wait_in_chat(qtbot, watcher)
        speak_first(qtbot, watcher)
        with chat_window(qtbot, options_for(server)) as first:
            type_line(first, "/login alice")
            wait_in_chat(qtbot, first)
            first.close(say_exit=False)  # the client dies: no exit, the server keeps a ghost
        with chat_window(qtbot, options_for(server)) as again:
            type_line(again, "/login alice")
            wait_in_chat(qtbot, again)
            server.wait_for_line(r"login request has arrived from alice@.*takes the name over")
            type_line(again, "I am back")
            wait_line(qtbot, watcher, ("in", "alice", "I am back", ""))
            wait_line(qtbot, again, ("out", "alice", "I am back", "delivered"))


def test_a_stopping_server_logs_everyone_out_and_says_so(qtbot):
    first = ServerProcess().start()
    try:
        with chat_window(qtbot, options_for(first)) as chat:
            type_line(chat, "/login alice")
            wait_in_chat(qtbot, chat)
            assert first.stop() == 0  # it says bye for alice as it goes
            qtbot.waitUntil(lambda: chat.bridge.state == "logged out", timeout=WAIT_MS)
            qtbot.waitUntil(
                lambda: any(t.startswith("The chat has ended: the server said goodbye")
                            for _, _, t, _ in lines(chat)),
                timeout=WAIT_MS,
            )  # fmt: skip
    finally:
        first.kill()


def test_a_crashed_server_is_noticed_and_the_window_recovers_by_itself(qtbot):
    """The server crashed and a new one took its place: the window's next line goes
    nowhere (the new server does not know alice).  Nothing came back, so the line is "not
    confirmed" (never "not relayed"); the window logs in again by itself, and the line
    goes again and is delivered, without the person typing /login."""
    first = ServerProcess().start()
    config = ClientConfig(delivery_timeout=1.0)
    try:
        with chat_window(qtbot, options_for(first), config) as chat:
            type_line(chat, "/login alice")
            wait_in_chat(qtbot, chat)
            first.kill()  # no bye: the window only learns from silence
            second = ServerProcess(
                group=first.group, port=first.port, group_port=first.group_port
            ).start()
            try:
                type_line(chat, "anyone there?")  # the new server does not know alice
                wait_line(qtbot, chat, ("out", "alice", "anyone there?", "delivered"))
                said = " ".join(row[2] for row in lines(chat))
                assert "welcomed you back" in said and "not relayed" not in said
                assert chat.bridge.inChat and chat.bridge.answering
                type_line(chat, "back")
                wait_line(qtbot, chat, ("out", "alice", "back", "delivered"))
            finally:
                second.kill()
    finally:
        first.kill()


def test_background_window_counts_unread_lines_in_its_title(qtbot, server):
    with (
        chat_window(qtbot, options_for(server)) as alice,
        chat_window(qtbot, options_for(server)) as bob,
    ):
        type_line(bob, "/login bob")
        wait_in_chat(qtbot, bob)
        speak_first(qtbot, bob)
        type_line(alice, "/login alice")  # alice's window is now the active one
        wait_in_chat(qtbot, alice)
        assert not bob.window.isActive()
        type_line(alice, "one")
        type_line(alice, "two")
        wait_line(qtbot, bob, ("in", "alice", "two", ""))
        assert bob.window.title().startswith("(2) bob \u2014 lanchat @")
        assert not alice.window.title().startswith("(")
        type_line(bob, "seen")  # activates bob's window
        qtbot.waitUntil(lambda: bob.window.title().startswith("bob \u2014"), timeout=WAIT_MS)
