"""The web gateway: browsers and phones in the chat, each as a protocol client of its own.

Each person on the page is one ``ClientCore`` with its own unicast socket (servers see one
address and port per person, and pace, cap and name them as they would any client); one
group listener feeds every core what the group says. A ``WebUser`` outlives its
WebSocket by ``resume_within`` seconds, so a phone whose Wi-Fi drops comes back to the
same session and is sent only the frames it missed.

Nothing a browser does may hurt the others: frames are at most 4 KB, each connection may
send a few frames a second (chat lines are paced further by the core), each browser
address may hold a few connections, frames to a page wait in a bounded queue (a phone
that does not read is dropped and told, and never holds up anyone else), a connection
that does not log in is closed, and a page from another origin is refused. Each limit is
logged when it bites (``LimitLog``: once per limit and address per 10 s, with a count).
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import secrets
import socket
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from protocol_lib import DEFAULT_GROUP, DEFAULT_GROUP_PORT, DEFAULT_SERVER_PORT
from protocol_lib.client import ClientConfig, ClientCore
from protocol_lib.client_events import (
    ClientEvent,
    ClientState,
    LocalError,
    NotFromServer,
    RelayStyle,
    RelayStyleLearned,
    RosterChanged,
    SendDatagram,
    StateChanged,
)
from protocol_lib.errors import LocalProtocolError
from protocol_lib.io.doctor import route_from
from protocol_lib.io.net import (
    ANY_INTERFACE,
    cannot_join,
    group_receiver,
    local_addresses,
    nothing_listens,
    server_sources,
    why,
)
from protocol_lib.names import canonical_name
from protocol_lib.ratelimit import TokenBucket
from protocol_lib.reasons import Reason

from .frames import (
    MAX_FRAME_BYTES,
    FrameError,
    Leave,
    Login,
    Ping,
    Say,
    event_frame,
    frame,
    read_request,
)
from .limits import Limits
from .listening import CappedSite, descriptor_budget, page_socket

log = logging.getLogger("lanchat.web")
STATIC = "static"
# The page's files, and nothing else, are served (with their types).
PAGE_FILES = {
    "/": ("index.html", "text/html"),
    "/chat.js": ("chat.js", "text/javascript"),
    "/chat.css": ("chat.css", "text/css"),
    "/icon.svg": ("icon.svg", "image/svg+xml"),
}
SECURITY_HEADERS = {
    # The page runs its own script and nothing else; foreign text can never become markup
    # (the script writes text only), and this is the second wall if a bug ever did.
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@dataclass(frozen=True, slots=True)
class GatewayOptions:
    server: str = "127.0.0.1"
    port: int = DEFAULT_SERVER_PORT
    group: str = DEFAULT_GROUP
    group_port: int = DEFAULT_GROUP_PORT
    interface: str = ANY_INTERFACE
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    relay_style: RelayStyle = RelayStyle.UNKNOWN
    server_source: tuple[str, ...] = ()
    title: str = ""
    limits: Limits = field(default_factory=Limits)
    # How many the server lets in at once, when the gateway knows (lanchat-server --web):
    # a login unanswered in a chat of that many is "full", not "the name may be taken".
    capacity: int | None = None


class GatewayError(OSError):
    """What stopped a gateway from starting, in words for its operator."""


class LimitLog:
    """Says each limit that bites, once per limit and address per ``interval`` seconds;
    what it held back is counted into the next line, so a flood cannot fill the log."""

    def __init__(self, interval: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.clock = clock
        self.bitten: Counter[str] = Counter()  # per limit, every time: the totals
        self._last: dict[tuple[str, str], float] = {}
        self._held: Counter[tuple[str, str]] = Counter()

    def bite(self, limit: str, address: str, detail: str) -> None:
        self.bitten[limit] += 1
        key = (limit, address)
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._held[key] += 1
            return
        if len(self._last) > 10_000:  # many addresses: forget the old ones
            self._last = {k: t for k, t in self._last.items() if now - t < self.interval}
        self._last[key] = now
        held = self._held.pop(key, 0)
        more = f" (and {held} more like it)" if held else ""
        log.warning("limit %s: %s: %s%s", limit, address, detail, more)


class _UserSocket(asyncio.DatagramProtocol):
    def __init__(self, gateway: Gateway, user: WebUser) -> None:
        self.gateway = gateway
        self.user = user

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.gateway.unicast_received(self.user, data, (str(addr[0]), addr[1]))

    def error_received(self, exc: Exception) -> None:
        self.gateway.user_socket_error(self.user, exc)


class _GroupSocket(asyncio.DatagramProtocol):
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.gateway.group_received(data, (str(addr[0]), addr[1]))


class Connection:
    """One WebSocket: a bounded queue of frames and the task that writes them."""

    def __init__(self, ws: web.WebSocketResponse, address: str, limits: Limits) -> None:
        self.ws = ws
        self.address = address
        self.queue: asyncio.Queue[str] = asyncio.Queue(limits.send_queue)
        self.frames = TokenBucket(limits.frames)
        self.user: WebUser | None = None
        self.dropped = False
        self.writer = asyncio.get_running_loop().create_task(self._write())

    def push(self, text: str) -> bool:
        """Queue a frame; False if the page has fallen too far behind (it is then dropped)."""
        if self.dropped:
            return False
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            return False
        return True

    async def _write(self) -> None:
        ws = self.ws
        queue = self.queue
        try:
            while True:
                await ws.send_str(await queue.get())
        except (ConnectionError, RuntimeError):
            pass  # the connection went; its reader notices and the session waits

    async def close(self, code: int, message: str) -> None:
        self.dropped = True
        self.writer.cancel()
        try:
            await asyncio.wait_for(self.ws.close(code=code, message=message.encode()[:120]), 2.0)
        except (TimeoutError, ConnectionError, RuntimeError):
            pass


class WebUser:
    """One person on a page: their ``ClientCore``, their unicast socket, their frames."""

    def __init__(self, core: ClientCore, address: str) -> None:
        self.core = core
        self.address = address  # the browser's, for the log
        self.token = secrets.token_urlsafe(18)
        self.transport: asyncio.DatagramTransport | None = None
        self.connection: Connection | None = None
        self.frames: deque[str] = deque()  # the last frames, for a page that comes back
        self.count = 0  # frames made for this person so far (the page counts too)
        self.timer: asyncio.TimerHandle | None = None
        self.deadline: float | None = None
        self.expiry: asyncio.TimerHandle | None = None  # while no page is attached
        self.unsent: list[bytes] = []  # datagrams made before the socket was open
        self.refused = False  # the server's port answered "nothing listens here"
        self.device: str | None = None  # the browser's id: only it takes a waiting session up
        self.was_in = False  # was in the chat (a failed login is not a leaving)
        self.took = 0  # the last "say" ref taken from the page: one resent is not said twice

    @property
    def active(self) -> bool:
        return self.core.state is not ClientState.LOGGED_OUT


CLOSE_TOO_SLOW = 4000  # page did not read its frames: it reconnects and catches up
CLOSE_REPLACED = 4001  # the same session was taken up by another connection
CLOSE_GOING = 1001
CLOSE_TOO_MANY = 4002  # too many pages from one address: the page waits before trying again
CLOSE_IDLE = 4003  # no login in time: the page connects again when someone presses Join
CLOSE_ENDED = 4004  # the host ended the chat: the page says so and waits for a Join


def _count_out(counter: Counter[str], key: str) -> None:
    """One of ``key``'s less; a key at none is forgotten (many addresses pass by)."""
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


class Gateway:
    """The HTTP + WebSocket side and all the protocol clients behind it."""

    def __init__(self, options: GatewayOptions) -> None:
        self.options = options
        self.limits = options.limits
        self.users: dict[str, WebUser] = {}  # by token
        self.connections: Counter[str] = Counter()  # per browser address
        self.limit_log = LimitLog()
        # Sockets the people may hold (two each): within the OS's and the loop's limits.
        self.budget = descriptor_budget()
        self.tcp: Counter[str] = Counter()  # open TCP connections, per address
        self.sources = server_sources(options.server, options.server_source)
        # The server's relay style as the last person's own echo showed it: each new
        # person's client presumes it (senders named from the first line), and still
        # checks it against its own echo.
        self.relay_style = options.relay_style
        self.watcher = ClientCore(self._config())
        self.roster_known = False
        self._list_asked = float("-inf")
        self._group: asyncio.DatagramTransport | None = None
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.url = ""
        self.port = 0  # the page's TCP port, once serving
        self._addresses: frozenset[str] = frozenset()  # this machine's (_own_host)
        self._addresses_at = float("-inf")
        self.source_address = "?"  # where the server sees this gateway's people come from
        self._static = _read_page()
        self._qr_cache: dict[str, bytes] = {}

    def _config(self) -> ClientConfig:
        """A person's client: no list of its own after the welcome (one for the gateway,
        ``_state``), the server's sources, the relay style known so far, a short queue."""
        return ClientConfig(
            list_after_login=False,
            server_sources=self.sources,
            server_port=self.options.port,
            relay_style=self.relay_style,
            max_queued=self.limits.queued_lines,
        )

    @property
    def max_users(self) -> int:
        """--max-users, or fewer where the sockets would not suffice (each person holds two)."""
        return min(self.limits.max_users, self.budget // 2)

    def admit(self, address: str) -> bool:
        """A connection from ``address``, at accept: it stays while the sockets' budget
        (beside everyone's UDP socket) and the address's share of it allow (one machine
        holding the rest idle cannot keep an honest page out)."""
        if self.tcp[address] >= self.limits.tcp_per_address:
            detail = f"{self.limits.tcp_per_address} connections open from this address"
            self.limit_log.bite("connections", address, f"{detail}: one more closed at accept")
            return False
        if self.tcp.total() + len(self.users) >= self.budget:
            detail = f"{self.budget} sockets in use (the budget): a connection closed at accept"
            self.limit_log.bite("sockets", "*", detail)
            return False
        self.tcp[address] += 1
        return True

    def left(self, address: str) -> None:
        _count_out(self.tcp, address)

    # --- start and stop ---------------------------------------------------------------

    async def start(self) -> None:
        """Join the group and open the HTTP side; ``url`` then says where the page is."""
        self._loop = loop = asyncio.get_running_loop()
        options = self.options
        try:
            sock = group_receiver(options.group, options.group_port, options.interface)
        except OSError as exc:
            why_not = cannot_join(exc, options.group, options.group_port, options.interface)
            raise GatewayError(why_not) from exc
        self.source_address = route_from((options.server, options.port)) or "?"
        sock.setblocking(False)
        transport, _ = await loop.create_datagram_endpoint(lambda: _GroupSocket(self), sock=sock)
        self._group = transport
        app = web.Application(client_max_size=MAX_FRAME_BYTES)
        app.router.add_get("/ws", self._websocket)
        for path in PAGE_FILES:
            app.router.add_get(path, self._page)
        app.router.add_get("/qr.png", self._qr)
        self._runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            # aiohttp closes a connection idle this long, counted from its start too: a
            # request's deadline; a WebSocket, once open, is the heartbeat's business
            keepalive_timeout=self.limits.request_within,
        )
        await self._runner.setup()
        try:
            listening = page_socket(options.http_host, options.http_port)
            await CappedSite(self._runner, listening, self).start()
        except OSError as exc:
            await self._runner.cleanup()
            transport.close()
            raise GatewayError(
                f"cannot serve the page on {options.http_host}:{options.http_port}: {why(exc)}"
            ) from exc
        host, self.port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{self.port}/"

    async def stop(self, ended: bool = False) -> None:
        """Every person leaves the chat (an exit each: the server says bye), every page
        is told the gateway is going (it reconnects by itself) or, ``ended``, that the host
        ended the chat (it says so and joins nothing by itself), then the sockets close."""
        loop = asyncio.get_running_loop()
        closing = []
        code, why = (CLOSE_ENDED, "the chat has ended") if ended else (
            CLOSE_GOING, "the gateway is stopping")  # fmt: skip
        for user in self.users.values():
            if user.connection is not None:  # told "going away", not "you left": it comes back
                connection, user.connection = user.connection, None
                connection.user = None
                closing.append(connection.close(code, why))
        now = loop.time()
        for user in list(self.users.values()):
            self._handle(user, user.core.close(now), now)
        await asyncio.gather(*closing, return_exceptions=True)
        for user in list(self.users.values()):
            self._forget(user)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._group is not None:
            self._group.close()

    # --- HTTP -------------------------------------------------------------------------

    async def _page(self, request: web.Request) -> web.Response:
        body, content_type = self._static[request.path]
        return web.Response(body=body, content_type=content_type, headers=SECURITY_HEADERS)

    async def _qr(self, request: web.Request) -> web.Response:
        """A QR code of this page's address as the asker reached it (a window's "Invite
        phones" shows it; a phone can show it to the next one)."""
        host = request.host
        if not _HOST_CHARS.fullmatch(host):
            return web.Response(status=400, text="Bad Host")
        png = self._qr_cache.get(host)
        if png is None:
            png = qr_png(f"http://{host}/")
            if len(self._qr_cache) < 16:
                self._qr_cache[host] = png
        return web.Response(body=png, content_type="image/png", headers=SECURITY_HEADERS)

    def _own_host(self, netloc: str) -> bool:
        """Whether ``netloc`` (a Host header, an Origin's host and port) names this machine:
        one of its addresses, ``localhost``, its host name (``.local`` too); any port (a
        proxy in front of the page).  A name that only resolves here (DNS rebinding: a page
        at evil.example made to point at this machine) is not ours."""
        host, _, port = netloc.rpartition(":")
        if not port.isdigit():
            host = netloc
        host = host.lower().rstrip(".")
        name = socket.gethostname().lower()
        if host in ("localhost", name, f"{name}.local"):
            return True
        now = time.monotonic()
        if now - self._addresses_at > 10.0:  # interfaces change rarely: looked at anew
            self._addresses, self._addresses_at = local_addresses(), now
        return host in self._addresses

    def _origin_problem(self, request: web.Request) -> str | None:
        """A page from elsewhere may not use a person's browser to talk here (the
        WebSocket is not bound by the same-origin rule); tools that send no Origin may.
        The page's own origin is this gateway's, whatever Host the browser says."""
        origin = request.headers.get("Origin")
        if origin is None:
            return None
        parts = urlsplit(origin)
        if parts.scheme in ("http", "https") and parts.netloc == request.host:
            if self._own_host(parts.netloc):
                return None
            return f"origin {origin[:80]!r} is not one of this gateway's addresses or names"
        return f"origin {origin[:80]!r} is not this page's ({request.host})"

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        address = request.remote or "?"
        refusal = self._origin_problem(request)
        if refusal:
            self.limit_log.bite("origin", address, refusal)
            return web.Response(status=403, text="Forbidden: " + refusal)
        ws = web.WebSocketResponse(
            heartbeat=self.limits.heartbeat, max_msg_size=MAX_FRAME_BYTES, compress=False
        )
        if self.connections[address] >= self.limits.per_address:
            detail = f"{self.limits.per_address} connections from this address already"
            self.limit_log.bite("per-address", address, detail)
            await ws.prepare(request)  # a page cannot read an HTTP refusal: it is told here
            words = (
                f"Too many chat pages are open on this device or network address "
                f"({self.limits.per_address}): close one; this page tries again every few "
                "seconds."
            )
            await ws.send_str(frame("error", reason="too-many-pages", text=words))
            await ws.close(code=CLOSE_TOO_MANY, message=b"too many pages from this address")
            return ws
        await ws.prepare(request)
        self.connections[address] += 1
        connection = Connection(ws, address, self.limits)
        try:
            connection.push(self._hello())
            await self._read(connection)
        finally:
            _count_out(self.connections, address)
            self._detach(connection)
            connection.dropped = True
            connection.writer.cancel()
        return ws

    def _hello(self) -> str:
        options = self.options
        return frame(
            "hello",
            chat=options.title,  # none: the page keeps its own name ("LAN chat")
            server=f"{options.server}:{options.port}",
        )

    async def _read(self, connection: Connection) -> None:
        ws = connection.ws
        loop = asyncio.get_running_loop()
        # A timer, not receive()'s timeout: aiohttp restarts that at every pong.
        deadline = loop.call_later(self.limits.login_within, self._login_due, connection)
        try:
            await self._read_frames(connection, ws, loop)
        finally:
            deadline.cancel()

    def _login_due(self, connection: Connection) -> None:
        if connection.user is None and not connection.dropped:
            self.limit_log.bite("login-timeout", connection.address, "no login in time")
            asyncio.get_running_loop().create_task(
                connection.close(CLOSE_IDLE, "no login within the time allowed")
            )

    async def _read_frames(
        self, connection: Connection, ws: web.WebSocketResponse, loop: asyncio.AbstractEventLoop
    ) -> None:
        while True:
            message = await ws.receive()
            if message.type is WSMsgType.TEXT:
                if not connection.frames.take(loop.time()):
                    self.limit_log.bite("frames", connection.address, "frames too fast")
                    connection.push(_too_fast(message.data))
                    continue
                self._request(connection, message.data, loop.time())
            elif message.type is WSMsgType.ERROR:  # a frame over the size, or not WebSocket
                detail = str(ws.exception())[:80]
                self.limit_log.bite("bad-websocket", connection.address, detail)
                return
            elif message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                return
            else:  # binary: not ours
                self.limit_log.bite("bad-frame", connection.address, "binary frame")

    # --- what a page asks ---------------------------------------------------------------

    def _request(self, connection: Connection, text: str, now: float) -> None:
        try:
            request = read_request(text)
        except FrameError as exc:
            self.limit_log.bite("bad-frame", connection.address, str(exc))
            connection.push(frame("error", reason="bad-frame", text=f"Not understood: {exc}"))
            return
        user = connection.user
        if isinstance(request, Ping):
            connection.push(frame("pong"))
        elif isinstance(request, Login):
            self._login(connection, request, now)
        elif user is None:
            connection.push(frame("error", reason="not-logged-in", text="Log in first."))
        elif isinstance(request, Say):
            ref = request.ref
            if ref is None or ref > user.took:
                self._say(user, request.text, now)
                user.took = ref or user.took
            if ref is not None:
                connection.push(frame("took", ref=ref))
        elif isinstance(request, Leave):
            self._handle(user, user.core.leave(now), now)

    def _say(self, user: WebUser, text: str, now: float) -> None:
        """Each line of ``text`` as a chat line. Lines that cannot go (refused: too long, a
        control character; or more than the pace's queue takes) go back to the page in one
        error that says why, to stay in its input box: nothing typed is lost."""
        events: list[ClientEvent] = []
        back: list[str] = []
        why: dict[str, None] = {}  # the reasons, in order, once each
        full = False
        for line in text.splitlines():
            if not line.strip():
                continue
            said = [] if full else user.core.say(line, now)
            refusal = said[0] if said and isinstance(said[0], LocalError) else None
            if full or refusal is not None:
                full = full or (refusal is not None and refusal.reason == Reason.QUEUE_FULL)
                back.append(line)
                why[_refusal_words(refusal)] = None
                continue
            events += said
        self._handle(user, events, now)
        if back:
            words = f"{len(back)} line(s) not sent ({'; '.join(why)}): back in the box."
            self._emit(user, frame("error", reason="not-sent", text=words, unsent="\n".join(back)))

    def _login(self, connection: Connection, request: Login, now: float) -> None:
        user = self.users.get(request.resume or "")
        if user is not None and (user.core.user or user.core.last_user) == request.name:
            self._attach(connection, user, request.seen)
            if user.active:  # where it is now: the frames that said so may be long gone
                self._emit(user, _state_frame(user.core))
            else:  # the session ended while the page was away
                self._handle(user, user.core.login(request.name, now), now)
            return
        user = connection.user
        if user is not None and user.active:
            name = user.core.user
            connection.push(
                frame("error", reason="already-logged-in", text=f"You are in as {name}.")
            )
            return
        name = request.name.strip()
        mine = self._detached(name, connection.address, request.device)
        if mine is not None and user is None:  # a page closed and opened again: the same person
            self._attach(connection, mine, 0)
            self._emit(mine, _state_frame(mine.core))
            return
        taken = _holder(name, self.watcher.roster)
        if taken is not None:  # ``again`` (every reconnect says it) is no licence to take it
            same = "" if taken == name else f" (as {taken})"
            text = f"{name} is already in the chat{same}: choose another name."
            connection.push(frame("error", reason="name-taken", text=text))
            return
        if user is None:
            if len(self.users) >= self.max_users:
                detail = f"{self.max_users} people on this gateway already"
                self.limit_log.bite("max-users", connection.address, detail)
                text = "The gateway is full; try again later."
                connection.push(frame("error", reason="gateway-full", text=text))
                return
            user = self._new_user(connection)
            if user is None:
                return
            user.device = request.device
            self._attach(connection, user, 0)
        if self.roster_known:
            user.core.know_roster(self.watcher.roster)
        self._handle(user, user.core.login(name, now), now)

    def _detached(self, name: str, address: str, device: str | None) -> WebUser | None:
        """A session of ``name`` whose page went away, asked for again by the same browser
        (its address and its own random id: a closed tab opened again within
        --resume-within): it is taken up, not refused. Another browser behind the same
        address (a shared PC, a NAT) is not that person."""
        if device is None:
            return None
        for user in self.users.values():
            if (
                user.connection is None
                and user.device == device
                and user.address == address
                and user.core.user == name
                and user.active
            ):
                return user
        return None

    def _new_user(self, connection: Connection) -> WebUser | None:
        assert self._loop is not None
        user = WebUser(ClientCore(self._config()), connection.address)
        try:
            sock = _unicast_socket(self.options.server, self.options.port)
        except OSError as exc:
            log.error("no socket for %s: %s", connection.address, exc)
            connection.push(frame("error", reason="gateway", text=f"Gateway error: {exc}"))
            return None
        # The transport exists once the endpoint is made; until then nothing is sent.
        self._loop.create_task(self._open(user, sock))
        self.users[user.token] = user
        return user

    async def _open(self, user: WebUser, sock: Any) -> None:
        assert self._loop is not None
        transport, _ = await self._loop.create_datagram_endpoint(
            lambda: _UserSocket(self, user), sock=sock
        )
        if user.token not in self.users:
            transport.close()
            return
        user.transport = transport
        for data in user.unsent:
            transport.sendto(data)
        user.unsent.clear()

    def _attach(self, connection: Connection, user: WebUser, seen: int) -> None:
        old = user.connection
        if old is not None and old is not connection:
            old.user = None
            asyncio.get_running_loop().create_task(
                old.close(CLOSE_REPLACED, "this chat was opened in another page")
            )
        if user.expiry is not None:
            user.expiry.cancel()
            user.expiry = None
        user.connection = connection
        connection.user = user
        first = user.count - len(user.frames)
        start = max(seen, first)
        connection.push(frame("attached", token=user.token, start=start, gap=seen < first))
        for text in list(user.frames)[max(seen - first, 0) :]:
            connection.push(text)

    def _detach(self, connection: Connection) -> None:
        user = connection.user
        connection.user = None
        if user is None or user.connection is not connection:
            return
        user.connection = None
        assert self._loop is not None
        user.expiry = self._loop.call_later(self.limits.resume_within, self._expire, user)

    def _expire(self, user: WebUser) -> None:
        """Nobody came back for this session: leave the chat for them."""
        user.expiry = None
        if user.connection is not None:
            return
        assert self._loop is not None
        now = self._loop.time()
        self._handle(user, user.core.close(now), now)
        self._forget(user)

    def _forget(self, user: WebUser) -> None:
        self.users.pop(user.token, None)
        for handle in (user.timer, user.expiry):
            if handle is not None:
                handle.cancel()
        if user.transport is not None:
            user.transport.close()

    # --- what the network says ------------------------------------------------------------

    def group_received(self, data: bytes, source: tuple[str, int]) -> None:
        assert self._loop is not None
        now = self._loop.time()
        at_ms = int(time.time() * 1000)
        shared: dict[ClientEvent, str | None] = {}  # one frame per event for everyone
        for event in self._watched(data, source, now):
            if isinstance(event, NotFromServer):
                where = f"{source[0]}:{source[1]}" if event.port else source[0]
                self.limit_log.bite("not-server", where, f"ignored {event.text[:60]!r}")
            elif isinstance(event, RosterChanged):
                self.roster_known = True
        for user in list(self.users.values()):
            if user.active:
                self._handle(user, user.core.receive(data, source, now), now, at_ms, shared)

    def _watched(self, data: bytes, source: tuple[str, int], now: float) -> list[ClientEvent]:
        """The group reader's events for a datagram; from a port of the server's address it
        did not know, read again once a person's welcome has taught that port (a restarted
        server's new socket)."""
        events = self.watcher.receive(data, source, now)
        if any(isinstance(e, NotFromServer) and e.port is not None for e in events):
            for user in self.users.values():
                ports = user.core.server_ports
                if ports is not None and source[1] in ports:
                    self.watcher.trust_server_ports(ports)
                    return self.watcher.receive(data, source, now)
        return events

    def unicast_received(self, user: WebUser, data: bytes, source: tuple[str, int]) -> None:
        assert self._loop is not None
        now = self._loop.time()
        events = user.core.receive(data, source, now)
        for event in events:
            if isinstance(event, RosterChanged):  # a server that answers list by unicast
                self.watcher.know_roster(event.users)
                self.roster_known = True
        self._handle(user, events, now)

    def user_socket_error(self, user: WebUser, exc: Exception) -> None:
        if isinstance(exc, OSError) and nothing_listens(exc):
            user.refused = True  # said when the login gives up (the last word the page sees)
        log.info("socket of %s (%s): %s", user.core.user or "?", user.address, exc)

    # --- events to datagrams and frames -------------------------------------------------------

    def _handle(
        self,
        user: WebUser,
        events: list[ClientEvent],
        now: float,
        at_ms: int | None = None,
        shared: dict[ClientEvent, str | None] | None = None,
    ) -> None:
        if at_ms is None:
            at_ms = int(time.time() * 1000)
        for event in events:
            if isinstance(event, SendDatagram):
                self._send(user, event.data)
                continue
            if isinstance(event, StateChanged):
                self._state(user, event, now)
                continue
            if isinstance(event, NotFromServer):
                continue  # logged once, by the group's reader
            if isinstance(event, RelayStyleLearned):
                self._learned(event.style)
            if isinstance(event, LocalError) and event.reason == Reason.NO_WELCOME:
                event = LocalError(event.reason, self._no_welcome(user))
            text = _frame(event, at_ms, shared)
            if text is not None:
                self._emit(user, text)
        self._arm(user)

    def _learned(self, style: RelayStyle) -> None:
        """One person's echo showed how the server relays: everyone here presumes it (a
        person who only reads would otherwise never see a sender named), and new people
        start with it."""
        if style is self.relay_style:
            return
        self.relay_style = style
        for user in self.users.values():
            user.core.presume_relay_style(style)

    def _state(self, user: WebUser, event: StateChanged, now: float) -> None:
        core = user.core
        if event.state is ClientState.IN_CHAT or user.was_in:
            said = "is in the chat" if event.state is ClientState.IN_CHAT else "left the chat"
            log.info("%s %s (page at %s)", event.user or core.last_user, said, user.address)
            user.was_in = event.state is ClientState.IN_CHAT
        if event.state is ClientState.IN_CHAT:
            ports = core.server_ports
            if ports is not None and ports != self.watcher.server_ports:
                # the group's reader logs in as nobody: it believes the ports one person's
                # welcome came from (a forged roster from another port is then ignored)
                self.watcher.trust_server_ports(ports)
            if not self.roster_known and now - self._list_asked > 5.0:
                self._list_asked = now  # one list for the whole gateway, not one per person
                self._send(user, b"list,")
        self._emit(user, _state_frame(core))

    def _no_welcome(self, user: WebUser) -> str:
        """Why a login got no welcome, as far as the gateway can tell, in a person's words;
        the operator's part goes to the gateway's log."""
        options = self.options
        name = user.core.last_user or "?"
        if user.refused:
            log.warning("%s could not join: nothing listens at %s:%s", name, options.server,
                        options.port)  # fmt: skip
            return (
                "The chat is not running: nothing answers at the chat's address. Try again "
                "later, or ask whoever runs it."
            )
        everyone = len(self.watcher.roster)
        if options.capacity is not None and everyone >= options.capacity:
            log.warning("%s could not join: the chat is full (%d of %d)", name, everyone,
                        options.capacity)  # fmt: skip
            return (
                f"The chat is full ({everyone} in it, as many as it lets in). Try again "
                "when someone has left, or ask whoever runs it."
            )
        inside = sum(1 for u in self.users.values() if u.core.state is ClientState.IN_CHAT)
        log.warning(
            "%s got no welcome from %s:%s (%d in through this gateway; a lanchat-server lets "
            "--max-sessions-per-host in from one address, 32 by default, unless started with "
            "--gateway %s)",
            name, options.server, options.port, inside, self.source_address,
        )  # fmt: skip
        return (
            f"The chat did not let you in as {name}. The name may be taken, or the chat lets "
            f"no more people in through this page ({inside} are in through it). Try another "
            "name, or ask whoever runs the chat."
        )

    def _send(self, user: WebUser, data: bytes) -> None:
        if user.transport is None:
            user.unsent.append(data)
        else:
            user.transport.sendto(data)

    def _emit(self, user: WebUser, text: str) -> None:
        user.count += 1
        frames = user.frames
        frames.append(text)
        if len(frames) > self.limits.replay:
            frames.popleft()
        connection = user.connection
        if connection is not None and not connection.push(text):
            self._too_slow(connection)

    def _too_slow(self, connection: Connection) -> None:
        if connection.dropped:
            return
        limit = self.limits.send_queue
        self.limit_log.bite("slow-page", connection.address, f"{limit} frames unread")
        self._detach(connection)
        asyncio.get_running_loop().create_task(
            connection.close(CLOSE_TOO_SLOW, "too slow to keep up: reconnecting")
        )

    def _arm(self, user: WebUser) -> None:
        deadline = user.core.next_deadline()
        if deadline == user.deadline:
            return
        if user.timer is not None:
            user.timer.cancel()
            user.timer = None
        user.deadline = deadline
        if deadline is not None and self._loop is not None:
            user.timer = self._loop.call_at(deadline, self._timer, user)

    def _timer(self, user: WebUser) -> None:
        user.timer = None
        user.deadline = None
        assert self._loop is not None
        now = self._loop.time()
        self._handle(user, user.core.handle_timer(now), now)


def _holder(name: str, roster: list[str]) -> str | None:
    """Who in ``roster`` holds ``name`` as the server will see it (case, look-alike letters
    and width are one name: protocol_lib.names.canonical_name), or None."""
    try:
        wanted = canonical_name(name)
    except LocalProtocolError:
        return None  # not a name at all: the core says why when it is tried
    for user in roster:
        try:
            if canonical_name(user) == wanted:
                return user
        except LocalProtocolError:
            continue
    return None


def _refusal_words(refusal: LocalError | None) -> str:
    """Why a line was not taken, for a person (the core's words are a typist's)."""
    if refusal is None or refusal.reason == Reason.QUEUE_FULL:
        return "too many are waiting to go out: send them in a moment"
    if refusal.reason == Reason.TEXT_CONTROL:
        return "it holds an invisible control character"
    return refusal.message


def _too_fast(text: str) -> str:
    """The refusal of a frame that came too fast, with its text to put back if it was a
    line (the page then keeps what was typed)."""
    try:
        request = read_request(text)
    except FrameError:
        request = None
    unsent = request.text if isinstance(request, Say) else ""
    return frame("error", reason="too-fast", text="Too fast: not sent.", unsent=unsent)


def _state_frame(core: ClientCore) -> str:
    """Where this person is: logged out, logging in, or in the chat (with who is there)."""
    users = core.roster if core.state is ClientState.IN_CHAT else []
    return frame("state", state=core.state, user=core.user, room=core.text_room(), users=users)


def _frame(
    event: ClientEvent, at_ms: int, shared: dict[ClientEvent, str | None] | None
) -> str | None:
    """The page's frame for ``event``; made once for everyone when ``shared`` is given (a
    line from the group is the same frame for each of the people it reaches)."""
    if shared is None:
        return event_frame(event, at_ms)
    try:
        return shared[event]
    except KeyError:
        text = shared[event] = event_frame(event, at_ms)
        return text


_HOST_CHARS = re.compile(r"[A-Za-z0-9.\-]{1,253}(:[0-9]{1,5})?")


def qr_png(url: str) -> bytes:
    """A QR code of ``url`` as a PNG (segno, pure Python: no image library needed)."""
    import segno

    out = io.BytesIO()
    segno.make(url, error="m", boost_error=False).save(out, kind="png", scale=8, border=3)
    return out.getvalue()


def _unicast_socket(server: str, port: int) -> Any:
    """A socket of this person's own, connected to the server: the server sees one address
    per person, and a refusal (nothing listening) comes back as an error on it."""
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        sock.connect((server, port))
    except OSError:
        sock.close()
        raise
    return sock


def _read_page() -> dict[str, tuple[bytes, str]]:
    """The page's files, read once: served from memory, nothing else from the disk."""
    root = resources.files(__package__).joinpath(STATIC)
    return {
        path: (root.joinpath(name).read_bytes(), kind) for path, (name, kind) in PAGE_FILES.items()
    }
