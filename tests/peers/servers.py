"""Peer servers, one per variant the interop notes list, on plain sockets.

- ``classic``: ``msg,<user>: <text>``, ``list,a, b`` (blanks), relays
  ``msg,Unknown: ...`` for addresses that never logged in, keeps duplicate names.
- ``unicast-list``: like classic, but the list reply goes only to the asker,
  sent from the server's port.
- ``no-sender``: relays ``msg,<text>`` and greets with ``welcome, <user>`` /
  ``bye, <user>`` (a blank after the comma).
- ``dict-list``: the list reply is a Python dict repr.
- ``text-list``: the list reply is ``list,User list: a,b``.
- ``dies-on-bytes``: like classic, but a datagram that is not UTF-8 ends it (a crash).
- ``goodbye``: like classic, but says ``goodbye,<user>`` where the spec says ``bye``.
"""

from __future__ import annotations

import socket
import threading

BUFFER = 1024
VARIANTS = (
    "classic", "unicast-list", "no-sender", "dict-list", "text-list", "dies-on-bytes",
    "goodbye",
)  # fmt: skip


class PeerServer:
    """A student-style server: one thread, recvfrom(1024), sendto the group."""

    def __init__(self, variant: str, host: str, group: str, group_port: int, interface: str):
        assert variant in VARIANTS, variant
        self.variant = variant
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.2)
        self.mcast = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        self.mcast.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        self.mcast.setsockopt(
            socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface)
        )
        self.group = (group, group_port)
        self.users: dict[tuple[str, int], str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def addr(self) -> tuple[str, int]:
        return self.sock.getsockname()

    def _to_group(self, text: str) -> None:
        self.mcast.sendto(text.encode(), self.group)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(BUFFER)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                line = data.decode()
            except UnicodeDecodeError:
                if self.variant == "dies-on-bytes":
                    return  # an uncaught exception in a student's loop: the server is gone
                continue  # the better of the students' servers survive this
            kind, _, body = line.partition(",")
            self._handle(kind.strip().lower(), body.strip(), addr)

    def _handle(self, kind: str, body: str, addr: tuple[str, int]) -> None:
        blank = " " if self.variant == "no-sender" else ""
        if kind == "login":
            self.users[addr] = body
            self._to_group(f"welcome,{blank}{body}")
        elif kind == "msg":
            user = self.users.get(addr, "Unknown")
            self._to_group(f"msg,{body}" if self.variant == "no-sender" else f"msg,{user}: {body}")
        elif kind == "exit":
            user = self.users.pop(addr, "Unknown")
            word = "goodbye" if self.variant == "goodbye" else "bye"
            self._to_group(f"{word},{blank}{user}")
        elif kind == "list":
            names = list(self.users.values())
            if self.variant == "dict-list":
                reply = f"list,{self.users!r}"
            elif self.variant == "text-list":
                reply = "list,User list: " + ",".join(names)
            else:
                reply = "list," + ", ".join(names)
            if self.variant == "unicast-list":
                self.sock.sendto(reply.encode(), addr)
            else:
                self._to_group(reply)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
        self.mcast.close()
