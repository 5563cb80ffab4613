"""A real nats-server for the federation tests: on 127.0.0.1 only, JetStream in a temporary
store, started and stopped by PID.  Also a federated site: our server plus a listener
in its group.

Where CI runs (``CI`` set), a missing nats-server fails the test instead of skipping
it: the federation must never go untested because a package was not installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.helpers_net import (
    LOOPBACK,
    WAIT,
    GroupListener,
    OutputLines,
    ServerProcess,
    UdpClient,
)

FAILOVER_WAIT = 30.0  # seconds: a cluster elects new leaders, a restarted broker recovers


def nats_server_binary() -> str:
    binary = shutil.which("nats-server")
    if binary is None:
        message = "nats-server is not installed (scripts/setup test installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return binary


def free_tcp_port() -> int:
    """A TCP port free now, below the kernel's ephemeral range (Linux: 32768 up): a port the
    OS handed out and took back could go to an outgoing connection before nats-server binds
    it (seen: a cluster node's route to a node not yet up took the port chosen for that
    node: "bind: address already in use")."""
    import random

    for _ in range(200):
        port = random.randrange(20_000, 32_000)
        with socket.socket() as s:
            try:
                s.bind((LOOPBACK, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free TCP port in 20000-32000")


class NatsServer:
    """One nats-server node; ``start`` after ``kill`` restarts it on the same port and store."""

    def __init__(
        self, store: Path, name: str = "n1", cluster_port: int | None = None,
        routes: tuple[int, ...] = (),
    ) -> None:  # fmt: skip
        self.binary = nats_server_binary()
        self.port = free_tcp_port()
        self.monitor_port = free_tcp_port()
        self.name = name
        self.store = store / name
        self.args = [
            self.binary, "-js", "-a", LOOPBACK, "-p", str(self.port),
            "-m", str(self.monitor_port), "-sd", str(self.store), "-n", name,
        ]  # fmt: skip
        if cluster_port is not None:
            self.args += [
                "--cluster_name", "lanchat-test",
                "-cluster", f"nats://{LOOPBACK}:{cluster_port}",
                "-routes", ",".join(f"nats://{LOOPBACK}:{port}" for port in routes),
            ]  # fmt: skip
        self.proc: subprocess.Popen[str] | None = None
        self.output: OutputLines | None = None

    @property
    def url(self) -> str:
        return f"nats://{LOOPBACK}:{self.port}"

    def start(self) -> NatsServer:
        self.proc = subprocess.Popen(
            self.args, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert self.proc.stdout is not None
        self.output = OutputLines(self.proc.stdout)
        self.output.wait_for(lambda line: "Server is ready" in line, "nats-server ready")
        return self

    def wait_for_metadata_leader(self, timeout: float = FAILOVER_WAIT) -> None:
        """A cluster node: until it knows the JetStream metadata leader (it logs "Self is new
        JetStream cluster metadata leader" or "JetStream cluster new metadata leader: ...").
        Before that, "Server is ready" notwithstanding, every JetStream request fails or
        times out (seen: a site's stream set-up retrying past its 5 s on a busy machine)."""
        assert self.output is not None
        self.output.wait_for(lambda line: "metadata leader" in line, "a metadata leader", timeout)

    def clients(self) -> list[str]:
        """Names of the clients connected to this node (its monitoring endpoint, on loopback)."""
        url = f"http://{LOOPBACK}:{self.monitor_port}/connz"
        with urllib.request.urlopen(url, timeout=WAIT) as reply:
            return [c.get("name", "") for c in json.load(reply).get("connections", [])]

    def consumers(self, stream: str) -> list[str]:
        """Names of ``stream``'s consumers (the monitoring endpoint's /jsz, on loopback)."""
        url = f"http://{LOOPBACK}:{self.monitor_port}/jsz?accounts=true&streams=true&consumers=true"
        with urllib.request.urlopen(url, timeout=WAIT) as reply:
            report = json.load(reply)
        return [
            consumer["name"]
            for account in report.get("account_details", [])
            for found in account.get("stream_detail", [])
            if found.get("name") == stream
            for consumer in found.get("consumer_detail", [])
        ]

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(WAIT)


class Site:
    """A federated server (a subprocess on loopback) and a member of its group."""

    def __init__(self, name: str, *urls: str, timeout: float = 15.0, extra: tuple = ()) -> None:
        self.name = name
        args = ["--site", name, "--site-timeout", str(timeout), *extra]
        for url in urls:
            args += ["--federation", url]
        self.server = ServerProcess(*args)
        self.listener: GroupListener | None = None
        self.clients: list[UdpClient] = []

    def start(self, connected: bool = True, connect_wait: float = WAIT) -> Site:
        self.server.start()
        self.listener = GroupListener(self.server.group, self.server.group_port)
        if connected:
            self.wait_connected(connect_wait)
        return self

    def wait_connected(self, timeout: float = WAIT) -> None:
        self.server.wait_for_line(r"connected to the federation as site ", timeout)

    def client(self) -> UdpClient:
        client = UdpClient(self.server.addr)
        self.clients.append(client)
        return client

    def login(self, name: str) -> UdpClient:
        """A client logged in here, once its welcome is back in this site's group."""
        client = self.client()
        client.send(f"login,{name}".encode())
        self.expect(f"welcome,{name}".encode())
        return client

    def expect(self, data: bytes, timeout: float = WAIT) -> list[bytes]:
        assert self.listener is not None
        return self.listener.expect(data, timeout)

    def drain(self, quiet: float = 0.5) -> list[bytes]:
        assert self.listener is not None
        return self.listener.drain(quiet)

    def log_line(self, pattern: str, timeout: float = WAIT) -> re.Match[str]:
        return self.server.wait_for_line(pattern, timeout)

    def close(self) -> None:
        self.server.kill()
        for client in self.clients:
            client.close()
        if self.listener is not None:
            self.listener.close()
