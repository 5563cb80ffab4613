"""A peer client as the students wrote them: group socket on ('', port), recvfrom(1024).

Runnable in-process (``PeerClient``) or as a line-driven subprocess for tests
that cross network namespaces: ``python -m tests.peers.client SERVER PORT GROUP
GROUP_PORT INTERFACE``; each stdin line is sent to the server as typed, each
datagram from the group or the server is printed as ``RECV <repr>``.
"""

from __future__ import annotations

import queue
import socket
import struct
import sys
import threading
import time

BUFFER = 1024  # the starter's constant: longer datagrams are cut


class PeerClient:
    """Sends what it is told; records everything it receives, in order."""

    def __init__(self, server: tuple[str, int], group: str, group_port: int, interface: str):
        self.server = server
        self.mcast = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        self.mcast.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.mcast.bind(("", group_port))
        mreq = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton(interface))
        self.mcast.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        self.mcast.settimeout(0.2)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((interface if interface != "0.0.0.0" else "", 0))
        self.sock.settimeout(0.2)
        self.received: queue.Queue[bytes] = queue.Queue()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._read, args=(s,), daemon=True)
            for s in (self.mcast, self.sock)
        ]
        for t in self._threads:
            t.start()

    def _read(self, sock: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                data, _ = sock.recvfrom(BUFFER)
            except TimeoutError:
                continue
            except OSError:
                return
            self.received.put(data)

    @property
    def addr(self) -> tuple[str, int]:
        return self.sock.getsockname()

    def send(self, line: str | bytes) -> None:
        self.sock.sendto(line.encode() if isinstance(line, str) else line, self.server)

    def expect(self, wanted: bytes, timeout: float = 5.0) -> list[bytes]:
        """Wait for ``wanted``; return what arrived before it."""
        seen: list[bytes] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                data = self.received.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{wanted!r} not received; got {seen!r}") from None
            if data == wanted:
                return seen
            seen.append(data)

    def close(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(2)
        self.mcast.close()
        self.sock.close()


def main(argv: list[str]) -> None:
    server, port, group, group_port, interface = argv
    client = PeerClient((server, int(port)), group, int(group_port), interface)

    def report() -> None:
        while True:
            data = client.received.get()
            print(f"RECV {data!r}", flush=True)

    threading.Thread(target=report, daemon=True).start()
    print("READY", flush=True)
    for line in sys.stdin:
        client.send(line.rstrip("\n"))
    client.close()


if __name__ == "__main__":
    main(sys.argv[1:])
