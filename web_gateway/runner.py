"""Running a gateway: its own asyncio loop in a thread (for lanchat-server --web, the host
button and tests), and what it says at start (the page's addresses, a QR code of one)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from protocol_lib.io.discovery import served_interfaces

from .gateway import Gateway, GatewayOptions

T = TypeVar("T")


def loop_factory(platform: str = sys.platform) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop a gateway runs on: a selector loop everywhere.  Windows' default,
    the Proactor, has a datagram transport that can stop reading after a "port
    unreachable" (CPython's issues with it): one server restart would cut every page off
    without a word.  None: the platform's default, which is a selector loop elsewhere."""
    return asyncio.SelectorEventLoop if platform == "win32" else None


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the loop ``loop_factory`` names."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)


def page_urls(http_host: str, port: int) -> list[str]:
    """Where people open the page: each LAN address for 0.0.0.0 (the addresses a server
    there is announced on), else the one bound; loopback when that is all there is."""
    lan = sorted(served_interfaces(http_host))
    hosts = lan or ["127.0.0.1" if http_host == "0.0.0.0" else http_host]
    return [f"http://{host}:{port}/" for host in hosts]


def qr_text(url: str) -> str:
    """A QR code of ``url`` for a terminal (two rows a character; phones' cameras read it)."""
    import segno

    out = io.StringIO()
    segno.make(url, error="m", boost_error=False).terminal(out=out, compact=True, border=2)
    return out.getvalue()


def raise_open_files_limit() -> None:
    """Each person is a socket, each page a connection: 500 people need more than the
    1,024 descriptors a process gets by default on Linux; take what the hard limit allows."""
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = 8192 if hard == resource.RLIM_INFINITY else min(hard, 8192)
        if soft != resource.RLIM_INFINITY and soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


class GatewayThread:
    """A gateway in a thread of its own: ``start`` returns once it serves (or raises what
    stopped it), ``stop`` makes everyone leave and waits for the thread."""

    def __init__(self, options: GatewayOptions) -> None:
        self.gateway = Gateway(options)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._ready = threading.Event()
        self._problem: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="web-gateway", daemon=True)
        self.ended = False  # stopped because the chat ends (``stop``)

    @property
    def url(self) -> str:
        return self.gateway.url

    def start(self, timeout: float = 10.0) -> None:
        raise_open_files_limit()
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the web gateway did not start")
        if self._problem is not None:
            raise self._problem

    def _run(self) -> None:
        run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        try:
            await self.gateway.start()
        except BaseException as exc:  # handed to the thread that started us
            self._problem = exc
            self._ready.set()
            return
        self._ready.set()
        await self._stopped.wait()
        await self.gateway.stop(self.ended)

    def stop(self, timeout: float = 10.0, ended: bool = False) -> None:
        """Stop the gateway; ``ended``: because the chat ends (its host ended it), so the
        pages say so and do not come back by themselves (else they reconnect)."""
        self.ended = ended
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None and self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stopped.set)
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)


def say_where(urls: list[str], out=sys.stdout, qr: bool = True) -> None:  # type: ignore[no-untyped-def]
    """The start message: the page's addresses, and a QR code of the first for phones."""
    print("Phones and browsers join at:", file=out)
    for url in urls:
        print(f"  {url}", file=out)
    if qr and urls:
        try:
            print(qr_text(urls[0]), end="", file=out)
        except ImportError:
            pass
    out.flush()
