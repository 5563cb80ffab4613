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
from typing import Any

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

            open_files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        except (ImportError, ValueError, OSError):
            open_files = 1024
        if open_files == getattr(sys.modules.get("resource"), "RLIM_INFINITY", -1):
            open_files = 1 << 20
    return max(64, open_files - RESERVE)


class _TurnedAway(asyncio.Protocol):
    """A connection beyond the budget: closed at once, before it costs a request."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.abort()


class CappedSite(web.SockSite):
    """aiohttp's site on ``sock``, accepting a connection only while ``admit()`` says so
    (the others are closed at once: a page retries by itself); ``turned_away`` is called
    for each one closed."""

    def __init__(
        self,
        runner: web.BaseRunner,
        sock: socket.socket,
        admit: Callable[[], bool],
        turned_away: Callable[[], None],
    ) -> None:
        super().__init__(runner, sock)
        self._admit = admit
        self._turned_away = turned_away

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registered with the runner (its addresses, cleanup)
        server = self._runner.server
        assert server is not None

        def protocol() -> Any:
            if self._admit():
                return server()
            self._turned_away()
            return _TurnedAway()

        self._server = await asyncio.get_running_loop().create_server(
            protocol, sock=self._sock, backlog=self._backlog
        )
