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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from protocol_lib.io.net import READ_SIZE, group_receiver, group_sender

T = TypeVar("T")
LOOPBACK = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
WAIT = 5.0  # seconds any single expectation may take before the test fails
WAIT_MS = int(WAIT * 1000)  # the same, for qtbot


def read_until(
    read: Callable[[float], T], found: Callable[[T], bool], what: str, timeout: float = WAIT
) -> list[T]:
    """Call ``read(seconds_left)`` until ``found`` accepts an item; return the items before.

    ``read`` raises TimeoutError (a socket) or queue.Empty (a queue) when nothing
    came in time; then, or at the deadline, the test fails naming what was seen.
    """
    seen: list[T] = []
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise TimeoutError
            item = read(remaining)
        except (TimeoutError, queue.Empty):
            raise AssertionError(f"{what} not received; got {seen!r}") from None
        if found(item):
            return seen
        seen.append(item)


class OutputLines:
    """A subprocess's output read line by line in a thread, for tests to wait on."""

    def __init__(self, stream: Iterable[str]) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: Iterable[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))

    def _next(self, timeout: float) -> str:
        line = self._queue.get(timeout=timeout)
        self.seen.append(line)
        return line

    def wait_for(self, found: Callable[[str], object], what: str, timeout: float = WAIT) -> str:
        """The first line from now on that ``found`` accepts."""
        read_until(self._next, lambda line: bool(found(line)), what, timeout)
        return self.seen[-1]


def fresh_python(
    code: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new interpreter from the repository's root: what a fresh process
    imports (``sys.modules``), not what this test session already has."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env,
    )  # fmt: skip


def without_linux_extras() -> dict[str, str]:
    """An environment whose Python processes look like Windows' to our code
    (tests/no_linux_extras/sitecustomize.py says what it takes away), Qt offscreen."""
    extras = ROOT / "tests" / "no_linux_extras"
    path = [str(extras), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(path), QT_QPA_PLATFORM="offscreen")


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
        return read_until(self.recv, lambda data: data == wanted, repr(wanted), timeout)

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
        self.output: OutputLines | None = None
        self.proc: subprocess.Popen[str] | None = None

    @property
    def addr(self) -> tuple[str, int]:
        return (LOOPBACK, self.port)

    @property
    def history(self) -> list[str]:
        """The log lines read so far."""
        return self.output.seen if self.output is not None else []

    def start(self) -> ServerProcess:
        # ROOT first; what was there stays (tests/no_linux_extras reaches the server too)
        path = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(path))
        self.proc = subprocess.Popen(
            self.args, cwd=ROOT, env=env, text=True, encoding="utf-8", errors="replace",
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.output = OutputLines(self.proc.stdout)
        self.wait_for_line(r"^Multiuser server is ready on ")
        return self

    def wait_for_line(self, pattern: str, timeout: float = WAIT) -> re.Match[str]:
        """Block until a log line matches ``pattern`` (a regex searched in each line)."""
        assert self.output is not None
        regex = re.compile(pattern)
        line = self.output.wait_for(regex.search, f"a line matching {pattern!r}", timeout)
        match = regex.search(line)
        assert match is not None
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
