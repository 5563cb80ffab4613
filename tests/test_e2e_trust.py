"""Two of our clients typing fast, through our server and through a plain-relay server:
every line arrives, and each is credited to the right person (or, on a plain relay, to
nobody: the spec's relay carries no sender)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from qml_client.cli import ClientOptions
from tests.helpers_net import LOOPBACK, WAIT_MS, free_udp_port, running_server, unique_group
from tests.peers.servers import PeerServer
from tests.qt_helpers import chat_window, lines, type_line

LINES = 15  # per person, typed as fast as keys can be sent: over the server's burst


@contextmanager
def server_of(kind: str) -> Iterator[ClientOptions]:
    if kind == "ours":
        with running_server() as srv:
            yield ClientOptions(LOOPBACK, srv.port, srv.group, srv.group_port, LOOPBACK)
        return
    group, group_port = unique_group(), free_udp_port()
    peer = PeerServer("no-sender", LOOPBACK, group, group_port, LOOPBACK)
    try:
        yield ClientOptions(LOOPBACK, peer.addr[1], group, group_port, LOOPBACK)
    finally:
        peer.close()


def typed_by(name: str) -> list[str]:
    other = "bob" if name == "alice" else "alice"
    tricky = [f"{other}: did you see this?", "Reminder: meeting at 5", f"{name}: yes", "ok"]
    return tricky + [f"{name} line {i}, with a comma" for i in range(LINES - len(tricky))]


def own_statuses(chat) -> list[str]:
    return [status for direction, _, _, status in lines(chat) if direction == "out"]


@pytest.mark.parametrize(("kind", "credited"), [("ours", True), ("plain", False)])
def test_every_line_typed_fast_arrives_attributed_correctly(qtbot, kind, credited):
    with (
        server_of(kind) as options,
        chat_window(qtbot, options) as alice,
        chat_window(qtbot, options) as bob,
    ):
        for chat, name in ((alice, "alice"), (bob, "bob")):
            type_line(chat, f"/login {name}")
            qtbot.waitUntil(lambda c=chat: c.bridge.state == "in chat", timeout=WAIT_MS)
        qtbot.waitUntil(lambda: alice.bridge.user_model.users == ("alice", "bob"), timeout=WAIT_MS)
        for chat in (alice, bob):  # each learns how the server relays from its own echo
            type_line(chat, "hello")
            qtbot.waitUntil(lambda c=chat: own_statuses(c) == ["delivered"], timeout=WAIT_MS)
        for a_line, b_line in zip(typed_by("alice"), typed_by("bob"), strict=True):
            type_line(alice, a_line)
            type_line(bob, b_line)
        for chat in (alice, bob):
            qtbot.waitUntil(
                lambda c=chat: own_statuses(c) == ["delivered"] * (LINES + 1),
                timeout=4 * WAIT_MS,
            )
        for reader, writer in ((bob, "alice"), (alice, "bob")):
            # (the greetings are left out: alice's came before bob had learned the style)
            def incoming(r=reader) -> list[tuple[str, str]]:
                return [(s, t) for d, s, t, _ in lines(r) if d == "in" and "hello" not in t]

            # The writer's own echo says the group relayed it, not that the reader's
            # window has drained it yet: wait for the reader's count, then compare.
            qtbot.waitUntil(lambda f=incoming: len(f()) >= LINES, timeout=WAIT_MS)
            sender = writer if credited else ""
            expected = [(sender, t) for t in typed_by(writer)]
            assert incoming() == expected, f"{kind}: what {reader.bridge.user} read"
