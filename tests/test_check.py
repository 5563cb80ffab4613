"""lanchat-check (issue 28): our server passes every row; each fake in the style of other
people's servers is named by exactly the row it breaks. Loopback only."""

from __future__ import annotations

import json
import sys

import pytest

from lanchat.check import main
from tests.helpers_net import LOOPBACK, free_udp_port, unique_group
from tests.peers.servers import PeerServer
from tests.peers.typist import Typist


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
