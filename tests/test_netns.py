"""Across hosts: server and clients in separate network namespaces, real multicast, TTL 1."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers_net import ROOT, WAIT, OutputLines
from tests.netns import Lan, unavailable_reason

REASON = unavailable_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"cross-host test: {REASON}")

GROUP, GROUP_PORT, PORT = "239.255.42.1", 2241, 4321


class Process:
    """A subprocess whose stdout lines are read in a thread into a queue."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.output = OutputLines(proc.stdout)

    def expect(self, wanted: str, timeout: float = WAIT) -> None:
        self.output.wait_for(lambda line: wanted in line, repr(wanted), timeout)

    def send(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def lan():
    net = Lan(["server", "c1", "c2", "c3"])
    yield net
    net.close()


def test_conversation_across_three_hosts(lan):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    common = dict(cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for host in ("server", "c1", "c2", "c3"):
        routes = lan.routes(host)
        assert "default" not in routes  # nothing here can reach beyond the bridge
    server_ip = lan.addresses["server"]
    procs: list[Process] = []
    try:
        server = Process(lan.popen("server", [
            sys.executable, "-m", "server_app", "--host", "0.0.0.0", "--port", str(PORT),
            "--group", GROUP, "--group-port", str(GROUP_PORT), "--interface", server_ip,
            "--ttl", "1"], **common))  # fmt: skip
        procs.append(server)
        server.expect("Multiuser server is ready on 0.0.0.0:4321!")
        clients = {}
        for host in ("c1", "c2"):
            args = [sys.executable, "-m", "tests.peers.client", server_ip, str(PORT), GROUP,
                    str(GROUP_PORT), lan.addresses[host]]  # fmt: skip
            client = Process(lan.popen(host, args, stdin=subprocess.PIPE, **common))
            procs.append(client)
            client.expect("READY")
            clients[host] = client
        c1, c2 = clients["c1"], clients["c2"]

        c1.send("login,alice")
        for c in (c1, c2):
            c.expect("RECV b'welcome,alice'")
        server.expect(f"login request has arrived from alice@('{lan.addresses['c1']}'")
        c2.send("login,bob")
        for c in (c1, c2):
            c.expect("RECV b'welcome,bob'")
        c1.send("msg,hello bob, across the LAN")
        for c in (c1, c2):
            c.expect("RECV b'msg,alice: hello bob, across the LAN'")
        c2.send("list,")
        for c in (c1, c2):
            c.expect("RECV b'list,alice,bob'")
        c2.send("exit,")
        for c in (c1, c2):
            c.expect("RECV b'bye,bob'")
        c1.send("list,")
        c1.expect("RECV b'list,alice'")

        # Our Qt client on the third host: its group join on a real interface, across the bridge.
        qt_env = dict(env, QT_QPA_PLATFORM="offscreen")
        ours = Process(lan.popen("c3", [
            sys.executable, "-m", "qml_client", server_ip, "--port", str(PORT),
            "--group", GROUP, "--group-port", str(GROUP_PORT),
            "--interface", lan.addresses["c3"], "--user", "carol",
        ], **dict(common, env=qt_env)))  # fmt: skip
        procs.append(ours)
        c1.expect("RECV b'welcome,carol'")
        c1.expect("RECV b'list,alice,carol'")  # carol's client asks for the list after its welcome
        c1.send("msg,hi carol")
        c1.expect("RECV b'msg,alice: hi carol'")
        ours.proc.terminate()  # closing the client says exit,
        c1.expect("RECV b'bye,carol'")
        assert ours.proc.wait(WAIT) == 0
    finally:
        for p in procs:
            p.stop()
