"""lanchat-check (issue 28): our server passes every row; each fake in the style of other
people's servers is named by exactly the row it breaks. Loopback only."""

from __future__ import annotations

import json
import sys

import pytest

from lanchat.check import main
from tests.helpers_net import LOOPBACK, free_udp_port, unique_group
from tests.peers.servers import PeerServer


def _check(capsys, *args: str) -> tuple[int, dict[str, dict]]:
    code = main(["server", *args, "--json"])
    rows = json.loads(capsys.readouterr().out)
    return code, {row["id"]: row for row in rows}


def test_our_server_passes_every_row_and_its_log_is_the_specs(capsys, tmp_path):
    port, group, group_port = free_udp_port(), unique_group(), free_udp_port()
    command = (f"{sys.executable} -m server_app --host {LOOPBACK} --port {port} --group {group} "
               f"--group-port {group_port} --interface {LOOPBACK}")  # fmt: skip
    report = tmp_path / "report.md"
    code, rows = _check(capsys, f"{LOOPBACK}:{port}", "--group", group, "--group-port",
                        str(group_port), "--interface", LOOPBACK, "--cmd", command,
                        "--markdown", str(report))  # fmt: skip
    assert code == 0, rows
    assert {"sockets", "login", "msg", "list", "exit", "duplicate-name", "not-logged-in",
            "log-format", "robust"} <= set(rows)  # fmt: skip
    assert all(row["verdict"] != "fail" for row in rows.values())
    assert rows["log-format"]["verdict"] == "pass" and rows["robust"]["verdict"] == "pass"
    if sys.platform == "linux":  # where the kit reads each datagram's TTL
        assert rows["sockets"]["detail"].endswith("; TTL 1")
    assert "| exit | server 'exit' type message was implemented correctly | pass | 10/10 |" in (
        report.read_text()
    )


@pytest.mark.parametrize(
    ("variant", "broken", "said"),
    [
        ("no-sender", None, ("msg", "plain (msg,<msg>)")),  # the spec's own relay: fine
        ("unicast-list", None, ("list", "by unicast to the asker (names separated by ', ')")),
        ("dies-on-bytes", "robust", ("robust", "a new login got no welcome")),
        ("goodbye", "exit", ("exit", "the group had 'goodbye,alice'")),
    ],
)
def test_each_fake_is_named_by_the_row_it_breaks(capsys, variant, broken, said):
    group, group_port = unique_group(), free_udp_port()
    server = PeerServer(variant, LOOPBACK, group, group_port, LOOPBACK)
    try:
        host, port = server.addr
        code, rows = _check(capsys, f"{host}:{port}", "--group", group, "--group-port",
                            str(group_port), "--interface", LOOPBACK)  # fmt: skip
    finally:
        server.close()
    failed = sorted(row_id for row_id, row in rows.items() if row["verdict"] == "fail")
    assert failed == ([broken] if broken else []), rows
    assert code == (1 if broken else 0)
    row_id, words = said
    assert words in rows[row_id]["detail"], rows[row_id]
    assert rows["log-format"]["verdict"] == "note"  # not started by the kit: no log to read


# --- the client mode, the test playing the person -----------------------------------


class Typist:
    """Our own client core on real sockets, typed into by the test as a person would."""

    def __init__(self, port: int, group: str, group_port: int, leave: str = "exit,") -> None:
        import socket
        import threading

        from protocol_lib import ClientConfig, ClientCore
        from protocol_lib.io.net import group_receiver

        # As the window does: only the server's address changes its state.
        self.core = ClientCore(ClientConfig(server_sources=frozenset({LOOPBACK})))
        self.leave = leave  # what it says on leaving: the spec's "exit,", or a fake's
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, 0))
        self.server = (LOOPBACK, port)
        self.group_sock = group_receiver(group, group_port, LOOPBACK)
        self.group_sock.settimeout(0.05)
        self.shown: list[str] = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _act(self, events) -> None:  # type: ignore[no-untyped-def]
        from protocol_lib import IncomingMessage, SendDatagram

        for event in events:
            if isinstance(event, SendDatagram):
                self.sock.sendto(event.data, self.server)
            elif isinstance(event, IncomingMessage):
                self.shown.append(event.text)

    def type(self, line: str) -> None:
        import time

        from qml_client.commands import typed_line

        with self.lock:
            self._act(typed_line(self.core, line, time.monotonic()))

    def _pump(self) -> None:
        import time

        while not self.done.is_set():
            try:
                data, (source, _) = self.group_sock.recvfrom(65536)
            except OSError:
                data = None
            with self.lock:
                now = time.monotonic()
                if data is not None:
                    self._act(self.core.receive(data, source, now))
                self._act(self.core.handle_timer(now))

    def sees(self, found, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
        """What a person does before answering: look at the window until it shows it."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if found():
                    return True
            self.done.wait(0.02)  # the pump thread shows what comes; bounded by ``timeout``
        return False

    def in_chat(self) -> bool:
        from protocol_lib import ClientState

        return self.sees(lambda: self.core.state is ClientState.IN_CHAT)

    def quit(self) -> None:
        if self.leave:
            self.sock.sendto(self.leave.encode(), self.server)

    def close(self) -> None:
        self.done.set()
        self.thread.join(5)
        self.sock.close()
        self.group_sock.close()


def _play_the_person(leave: str) -> tuple[int, dict[str, dict]]:
    import subprocess

    from tests.helpers_net import ROOT, WAIT

    port, group, group_port = free_udp_port(), unique_group(), free_udp_port()
    kit = subprocess.Popen(
        [sys.executable, "-m", "lanchat.check", "client", "--port", str(port), "--group", group,
         "--group-port", str(group_port), "--wait", "5", "--json"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    typist = Typist(port, group, group_port, leave)
    answers = {
        "Start the client": lambda: typist.type("/login alice"),
        "Send the message": lambda: typist.in_chat() and typist.type("hello there"),
        "Ask for the list": lambda: typist.type("/list"),
        "Leave the chat": typist.quit,
    }
    try:
        assert kit.stdout is not None and kit.stdin is not None
        rest = []
        for line in kit.stdout:
            if not line.startswith("> "):
                rest.append(line)
                continue
            question = line[2:]
            if question.endswith("[y/n]\n"):
                wanted = ["plain relay test", "relay with a sender", "are you still there?"]
                asked = [w for w in wanted if w in question]
                yes = typist.sees(
                    lambda asked=asked: all(any(w in t for t in typist.shown) for w in asked)
                )
                kit.stdin.write("y\n" if yes else "n\n")
            else:
                next(act for start, act in answers.items() if question.startswith(start))()
                kit.stdin.write("\n")
            kit.stdin.flush()
        code = kit.wait(WAIT)
    finally:
        typist.close()
        if kit.poll() is None:
            kit.kill()
    return code, {row["id"]: row for row in json.loads("".join(rest))}


def test_our_client_core_passes_the_client_rows_played_through_stdin():
    code, rows = _play_the_person("exit,")
    assert code == 0, rows
    assert [r["verdict"] for r in rows.values()] == ["pass"] * 6, rows
    assert rows["shows"]["points"] == 5


@pytest.mark.parametrize(
    ("leave", "why"),
    [("exit,alice", "has nothing after the comma"), ("", "expected exit, on leaving")],
)
def test_a_client_that_leaves_wrongly_fails_exactly_the_exit_row(leave, why):
    code, rows = _play_the_person(leave)
    assert code == 1
    assert [k for k, r in rows.items() if r["verdict"] == "fail"] == ["exit"], rows
    assert why in rows["exit"]["detail"]
