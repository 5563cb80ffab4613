"""The web gateway in tests: started in a thread on loopback (page on 127.0.0.1, group
joined on 127.0.0.1), and a page played by an asyncio WebSocket client."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tests.helpers_nats import free_tcp_port  # below the ephemeral range: safe to bind again
from tests.helpers_net import LOOPBACK, WAIT

__all__ = ["ARGS", "CHROMIUM", "PHONE", "LinkProxy", "Page", "free_tcp_port", "gateway_for",
           "slow_page"]  # fmt: skip

CHROMIUM = "/usr/bin/chromium"
# As the machine's own probe starts it: no network of its own beyond the page's (no
# background fetches, updates or sync), headless, a fresh profile per launch.
ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PHONE = {"width": 390, "height": 844}  # the browser tests' phone (and the lesson's phones)


@contextmanager
def gateway_for(
    server: tuple[str, int],
    group: str,
    group_port: int,
    http_port: int = 0,
    relay: str = "attributed",  # ours, as lanchat-server --web tells its gateway
    title: str = "",
    **limits: Any,
) -> Iterator[Any]:
    """A gateway for the chat at ``server`` in a thread; stopped (everyone leaves) at the end."""
    from protocol_lib.client_events import RelayStyle
    from web_gateway.gateway import GatewayOptions, Limits
    from web_gateway.runner import GatewayThread

    thread = GatewayThread(
        GatewayOptions(
            server=server[0], port=server[1], group=group, group_port=group_port,
            interface=LOOPBACK, http_host=LOOPBACK, http_port=http_port,
            relay_style=RelayStyle(relay), title=title, limits=Limits(**limits),
        )
    )  # fmt: skip
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()


class Page:
    """A page's side of the WebSocket, as the browser's script speaks it."""

    def __init__(self, ws: Any, session: Any) -> None:
        self.ws = ws
        self.session = session
        self.frames: list[dict[str, Any]] = []
        self.token: str | None = None
        self.counted = 0  # the user's frames seen (what the page sends as "seen")

    @classmethod
    async def open(cls, url: str, **headers: str) -> Page:
        import aiohttp

        session = aiohttp.ClientSession()
        try:
            ws = await session.ws_connect(url + "ws", headers=headers)
        except BaseException:
            await session.close()
            raise
        return cls(ws, session)

    async def send(self, **frame: Any) -> None:
        await self.ws.send_str(json.dumps(frame))

    async def next(self, timeout: float = WAIT) -> dict[str, Any] | None:
        """The next frame, or None when the gateway closed the connection."""
        import aiohttp

        message = await self.ws.receive(timeout)
        if message.type is not aiohttp.WSMsgType.TEXT:
            return None
        frame: dict[str, Any] = json.loads(message.data)
        if frame["t"] == "attached":
            self.token = frame["token"]
            self.counted = frame["start"]
        elif frame["t"] != "hello":
            self.counted += 1
        self.frames.append(frame)
        return frame

    async def wait_for(
        self, found: Callable[[dict[str, Any]], bool], what: str, timeout: float = WAIT
    ) -> list[dict[str, Any]]:
        """Read until ``found`` accepts a frame; the frames read before it."""
        seen: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                frame = await self.next(max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise AssertionError(f"{what} not received; got {seen!r}") from None
            if frame is None:
                raise AssertionError(f"closed before {what}; got {seen!r}")
            if found(frame):
                return seen
            seen.append(frame)

    async def login(self, name: str, **more: Any) -> None:
        await self.send(t="login", name=name, **more)
        await self.wait_for(
            lambda f: f["t"] == "state" and f["state"] == "in chat", f"{name} in the chat"
        )

    async def close(self) -> None:
        await self.ws.close()
        await self.session.close()


def slow_page(url: str) -> socket.socket:
    """A page that logs in and then never reads: a raw socket with the smallest receive
    buffer, after a WebSocket handshake and one (masked) login frame."""
    host, port = url.split("//")[1].rstrip("/").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.connect((host, int(port)))
    sock.sendall(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    login = json.dumps({"t": "login", "name": "slowpoke"}).encode()
    sock.sendall(bytes([0x81, 0x80 | len(login)]) + b"\0\0\0\0" + login)  # mask 0
    return sock


class LinkProxy:
    """A TCP proxy on 127.0.0.1 in front of ``target``: the browser's link to the gateway,
    which ``down()`` cuts the way Wi-Fi going away does (nothing is closed, nothing moves:
    bytes wait in the proxy, connections opened meanwhile hang) and ``up()`` restores
    (what waited is delivered, late, as TCP would after an outage).  Threads, bounded by
    the test: ``close()`` ends every connection."""

    def __init__(self, target: tuple[str, int]) -> None:
        import threading

        self.target = target
        self.listener = socket.create_server((LOOPBACK, 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://{LOOPBACK}:{self.port}/"
        self.flowing = threading.Event()
        self.flowing.set()
        self.closed = threading.Event()
        self.sockets: list[socket.socket] = []
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def down(self) -> None:
        self.flowing.clear()

    def up(self) -> None:
        self.flowing.set()

    def _accept(self) -> None:
        import threading

        while not self.closed.is_set():
            try:
                page, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            try:
                gateway = socket.create_connection(self.target, timeout=WAIT)
            except OSError:
                page.close()
                continue
            gateway.settimeout(None)
            self.sockets += [page, gateway]
            for src, dst in ((page, gateway), (gateway, page)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                self.flowing.wait()  # the link is down: nothing crosses, nothing closes
                data = src.recv(65536)
                self.flowing.wait()
                if not data or self.closed.is_set():
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.closed.set()
        self.flowing.set()
        self.listener.close()
        for sock in self.sockets:
            sock.close()
