"""The page's listening side: the TCP socket, bound as each OS needs, and the cap that keeps
the gateway's descriptors within what its event loop and the OS allow.

Every person on the page holds two descriptors (their WebSocket and their own UDP socket
to the chat server), so a crowd runs into a limit long before the CPU does: the process's
open-files limit (EMFILE: then nothing, not even a login's socket, can be opened), or on
Windows the selector loop's ``select()``, which takes at most 512 sockets and otherwise
raises in the middle of the loop, ending it for everyone.  Connections beyond the budget
are turned away at accept (the page retries by itself), and logins beyond half of it are
told the gateway is full, so the people already in keep their chat.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Callable
from typing import Protocol

from aiohttp import web

WSA_SO_EXCLUSIVEADDRUSE = -5  # Windows' (int)(~SO_REUSEADDR), its SO_REUSEADDR being 4
WINDOWS_SELECT_SOCKETS = 512  # FD_SETSIZE of Python's select module on Windows
RESERVE = 128  # descriptors kept for everything else (logs, the server's sockets, Qt's files)


def page_socket_options(platform: str = sys.platform) -> list[tuple[int, int, int]]:
    """The options the page's listening socket gets before it binds.  POSIX: SO_REUSEADDR,
    so a restarted gateway binds through TIME_WAIT (a second live one still fails).
    Windows: SO_REUSEADDR there lets a second program bind the same port without an error
    and take connections; SO_EXCLUSIVEADDRUSE makes the second bind fail instead."""
    if platform == "win32":
        exclusive = getattr(socket, "SO_EXCLUSIVEADDRUSE", WSA_SO_EXCLUSIVEADDRUSE)
        return [(socket.SOL_SOCKET, exclusive, 1)]
    return [(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)]


def page_socket(host: str, port: int, backlog: int = 128) -> socket.socket:
    """The page's listening TCP socket on ``host:port`` (``port`` 0: any free one), bound
    with ``page_socket_options``; raises OSError as the bind does."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        for level, option, value in page_socket_options():
            sock.setsockopt(level, option, value)
        sock.bind(address)
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def descriptor_budget(platform: str = sys.platform, open_files: int | None = None) -> int:
    """How many sockets the gateway's people may hold at once: on Windows what ``select``
    takes, elsewhere the process's open-files limit (``open_files``: its soft limit, read
    when not given), each less what everything else needs."""
    if platform == "win32":
        return WINDOWS_SELECT_SOCKETS - 12  # the listening and group sockets, the loop's own
    if open_files is None:
        try:
            import resource

            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            open_files = 1 << 20 if soft == resource.RLIM_INFINITY else soft
        except (ImportError, ValueError, OSError):
            open_files = 1024
    return max(64, open_files - RESERVE)


class Door(Protocol):
    """What a ``CappedSite`` asks at each accept, and tells at each close."""

    def admit(self, address: str) -> bool:
        """Whether a new connection from ``address`` may stay (False: it is closed at once)."""

    def left(self, address: str) -> None:
        """A connection let in from ``address`` has closed."""


class _Gate(asyncio.Protocol):
    """Stands before aiohttp's handler for one connection: at accept, the peer's address
    and the budget decide whether it stays (else it is closed before it costs a request
    or a task); once in, every call is passed on, and its close is told to the door."""

    __slots__ = ("_door", "_make", "_inner", "_address")

    def __init__(self, door: Door, make: Callable[[], asyncio.Protocol]) -> None:
        self._door = door
        self._make = make
        self._inner: asyncio.Protocol | None = None
        self._address = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if peer else "?"
        if not self._door.admit(address):
            assert isinstance(transport, asyncio.Transport)
            transport.abort()  # a reset: the page's script tries again by itself
            return
        try:
            self._inner = self._make()
        except Exception:
            self._door.left(address)  # counted in: out again (the error goes to the loop)
            raise
        self._address = address
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._inner is not None:
            self._door.left(self._address)
            self._inner.connection_lost(exc)


class CappedSite(web.SockSite):
    """aiohttp's site on ``sock``, keeping a connection only while ``door`` admits it."""

    def __init__(self, runner: web.BaseRunner, sock: socket.socket, door: Door) -> None:
        super().__init__(runner, sock)
        self._door = door

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registered with the runner (its addresses, cleanup)
        server = self._runner.server
        assert server is not None
        door = self._door
        self._server = await asyncio.get_running_loop().create_server(
            lambda: _Gate(door, server), sock=self._sock, backlog=self._backlog
        )
