"""Test helpers for real sockets, all pinned to loopback.

Every multicast sender here sets IP_MULTICAST_IF=127.0.0.1 and every receiver
joins on 127.0.0.1, groups are random in 239.255.0.0/16 and ports are free
ones, so parallel tests neither cross-talk nor leave this machine.
"""

from __future__ import annotations

import os
import queue
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from protocol_lib.io.net import READ_SIZE, group_receiver, group_sender

LOOPBACK = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
WAIT = 5.0  # seconds any single expectation may take before the test fails


def free_udp_port() -> int:
    """A UDP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def unique_group() -> str:
    """A random administratively scoped group, so concurrent tests stay apart."""
    return f"239.255.{random.randrange(1, 255)}.{random.randrange(1, 255)}"


class GroupListener:
    """A member of the group on 127.0.0.1 that records what the server sends."""

    def __init__(self, group: str, port: int) -> None:
        self.sock = group_receiver(group, port, LOOPBACK, timeout=WAIT)

    def recv(self, timeout: float = WAIT) -> bytes:
        self.sock.settimeout(timeout)
        return self.sock.recvfrom(READ_SIZE)[0]

    def expect(self, wanted: bytes, timeout: float = WAIT) -> list[bytes]:
        """Read until ``wanted`` arrives; return everything read before it."""
        seen: list[bytes] = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{wanted!r} not received; got {seen!r}")
            try:
                data = self.recv(remaining)
            except TimeoutError:
                raise AssertionError(f"{wanted!r} not received; got {seen!r}") from None
            if data == wanted:
                return seen
            seen.append(data)

    def drain(self, quiet: float = 0.2) -> list[bytes]:
        """Everything that arrives until the group has been quiet for ``quiet`` s."""
        out = []
        while True:
            try:
                out.append(self.recv(quiet))
            except TimeoutError:
                return out

    def close(self) -> None:
        self.sock.close()


class GroupSender:
    """Plays a server's multicast side: sends to the group out of 127.0.0.1.

    ``source`` is the address the datagrams come from: another loopback
    address (127.0.0.2) plays a different host on the LAN.
    """

    def __init__(self, group: str, port: int, source: str = LOOPBACK) -> None:
        self.sock = group_sender(LOOPBACK, ttl=1)
        if source != LOOPBACK:
            self.sock.bind((source, 0))
        self.addr = (group, port)

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, self.addr)

    def close(self) -> None:
        self.sock.close()


class UdpClient:
    """A bare unicast client on 127.0.0.1, as any other implementation would be."""

    def __init__(self, server: tuple[str, int], port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, port))
        self.server = server

    @property
    def addr(self) -> tuple[str, int]:
        return self.sock.getsockname()

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, self.server)

    def recv(self, timeout: float = WAIT) -> bytes:
        self.sock.settimeout(timeout)
        return self.sock.recvfrom(READ_SIZE)[0]

    def close(self) -> None:
        self.sock.close()


class ServerProcess:
    """``python -m server_app`` as a subprocess on loopback, with its log lines."""

    def __init__(
        self,
        *extra: str,
        group: str | None = None,
        port: int | None = None,
        group_port: int | None = None,
    ) -> None:
        self.port = port or free_udp_port()
        self.group = group or unique_group()
        self.group_port = group_port or free_udp_port()
        self.args = [
            sys.executable, "-m", "server_app",
            "--host", LOOPBACK, "--port", str(self.port),
            "--group", self.group, "--group-port", str(self.group_port),
            "--interface", LOOPBACK, "--ttl", "1", *extra,
        ]  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.history: list[str] = []
        self.proc: subprocess.Popen[str] | None = None

    @property
    def addr(self) -> tuple[str, int]:
        return (LOOPBACK, self.port)

    def start(self) -> ServerProcess:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(
            self.args, cwd=ROOT, env=env, text=True, encoding="utf-8", errors="replace",
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        threading.Thread(target=self._pump, daemon=True).start()
        self.wait_for_line(r"^Multiuser server is ready on ")
        return self

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for_line(self, pattern: str, timeout: float = WAIT) -> re.Match[str]:
        """Block until a log line matches ``pattern`` (a regex searched in each line)."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no line matching {pattern!r}; lines: {self.history!r}")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            self.history.append(line)
            match = regex.search(line)
            if match:
                return match

    def stop(self, sig: int = signal.SIGTERM, timeout: float = WAIT) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(WAIT)


@contextmanager
def running_server(*extra: str) -> Iterator[ServerProcess]:
    """A started server that is always killed at the end of the block."""
    server = ServerProcess(*extra)
    try:
        yield server.start()
    finally:
        server.kill()
