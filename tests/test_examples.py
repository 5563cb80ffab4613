"""The example bot, a second consumer of the public API, against our real server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.helpers_net import LOOPBACK, ROOT, WAIT, GroupListener, UdpClient, running_server


def test_the_bot_answers_time_and_who_and_leaves_on_sigterm():
    with running_server() as server:
        group = GroupListener(server.group, server.group_port)
        alice = UdpClient(server.addr)
        args = [sys.executable, str(ROOT / "examples" / "bot.py"), LOOPBACK,
                "--port", str(server.port), "--group", server.group,
                "--group-port", str(server.group_port), "--interface", LOOPBACK]  # fmt: skip
        bot = subprocess.Popen(
            args, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            group.expect(b"welcome,timebot")
            group.expect(b"msg,timebot: Hello! Say !time or !who and I answer.")
            alice.send(b"login,alice")
            group.expect(b"welcome,alice")
            alice.send(b"msg,!who")
            group.expect(b"msg,alice: !who")
            group.expect(b"msg,timebot: In the chat: timebot, alice")
            alice.send(b"msg,!time")
            group.expect(b"msg,alice: !time")
            reply = group.recv()
            assert reply.startswith(b"msg,timebot: It is ") and reply.endswith(b" here.")
            alice.send(b"msg,exit, stage left")  # to the bot only text, as to everyone
            group.expect(b"msg,alice: exit, stage left")
            bot.send_signal(signal.SIGTERM)
            group.expect(b"bye,timebot")
            assert bot.wait(WAIT) == 0
            assert bot.stdout is not None and "in the chat as timebot" in bot.stdout.read()
        finally:
            if bot.poll() is None:
                bot.kill()
                bot.wait()
            alice.close()
            group.close()


def test_the_bot_says_what_is_wrong_with_its_options():
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "bot.py"), LOOPBACK, "--name", "a,b"],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True,
        timeout=WAIT * 4,
    )  # fmt: skip
    assert result.returncode == 2 and time.monotonic() - started < WAIT * 4
    assert result.stderr.strip().splitlines() == [
        "bot.py: error: argument --name: the name contains a comma: 'a,b' (see --help)"
    ]
