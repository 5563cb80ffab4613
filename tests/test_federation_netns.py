"""Two sites as separate hosts: broker, site servers and clients each in a network namespace.

The namespaces' addresses (10.200.0.0/24) exist only inside them (tests/netns.py);
each site multicasts to its own group with TTL 1 from its own interface, and the
two meet only through the nats-server on the broker's host.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers_nats import nats_server_binary
from tests.helpers_net import ROOT, WAIT
from tests.netns import Lan, unavailable_reason
from tests.test_netns import Process

REASON = unavailable_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"cross-host test: {REASON}")

GROUPS = {"siteA": "239.255.43.1", "siteB": "239.255.43.2"}
GROUP_PORT, PORT, NATS_PORT = 2241, 4321, 4222
SLOW = 20.0  # seconds: a first JetStream set-up in a fresh store


@pytest.fixture
def lan():
    net = Lan(["broker", "siteA", "siteB", "alice", "bob"])
    yield net
    net.close()


def test_two_sites_in_their_own_namespaces_chat_through_the_broker(lan, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    common = dict(cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    broker_ip = lan.addresses["broker"]
    procs: list[Process] = []
    try:
        broker = Process(lan.popen("broker", [
            nats_server_binary(), "-js", "-a", broker_ip, "-p", str(NATS_PORT),
            "-sd", str(tmp_path / "store")], **common))  # fmt: skip
        procs.append(broker)
        broker.expect("Server is ready")
        clients = {}
        for name, user in (("siteA", "alice"), ("siteB", "bob")):
            ip = lan.addresses[name]
            server = Process(lan.popen(name, [
                sys.executable, "-m", "server_app", "--host", "0.0.0.0", "--port", str(PORT),
                "--group", GROUPS[name], "--group-port", str(GROUP_PORT), "--interface", ip,
                "--ttl", "1", "--federation", f"nats://{broker_ip}:{NATS_PORT}",
                "--site", name], **common))  # fmt: skip
            procs.append(server)
            server.expect(f"connected to the federation as site {name}", SLOW)
            args = [sys.executable, "-m", "tests.peers.client", ip, str(PORT), GROUPS[name],
                    str(GROUP_PORT), lan.addresses[user]]  # fmt: skip
            client = Process(lan.popen(user, args, stdin=subprocess.PIPE, **common))
            procs.append(client)
            client.expect("READY")
            clients[user] = client
        alice, bob = clients["alice"], clients["bob"]

        alice.send("login,alice")
        for c in (alice, bob):
            c.expect("RECV b'welcome,alice'")
        bob.send("login,bob")
        for c in (alice, bob):
            c.expect("RECV b'welcome,bob'")
        alice.send("msg,hello from site A")
        bob.expect("RECV b'msg,alice: hello from site A'")
        bob.send("list,")
        bob.expect("RECV b'list,bob,alice'")
        bob.send("exit,")
        alice.expect("RECV b'bye,bob'", WAIT)
    finally:
        for p in procs:
            p.stop()
