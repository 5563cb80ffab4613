"""The socket loop: receive datagrams, let ServerCore decide, carry out its actions.

Measured on this machine, a plain non-blocking ``recvfrom`` loop keeps up with
several times more datagrams per second than asyncio's DatagramProtocol, so the
loop drains the socket until it would block and only then waits in
``select`` (for the socket, a signal, or the core's next deadline).  Signals
reach ``select`` through ``signal.set_wakeup_fd``, so SIGINT/SIGTERM stop the
server at once instead of at the next timeout.
"""

from __future__ import annotations

import select
import signal
import socket
import time
from collections.abc import Callable
from types import FrameType
from typing import assert_never

from protocol_lib import (
    RejectionsSummarised,
    RequestArrived,
    RequestRejected,
    SendToAddress,
    SendToGroup,
    ServerAction,
    ServerCore,
)
from protocol_lib.io.net import READ_SIZE, SocketSetupError, group_sender, unicast_socket, why
from protocol_lib.io.waker import Waker, stop_signals

from .cli import ServerOptions, Verbosity
from .logfmt import LogSink, rejection_line, request_line, summary_line

IDLE_WAIT = 0.5  # seconds select waits when nothing is due: bounds the stop latency too
SEND_ERROR_LOG_INTERVAL = 5.0  # at most one line per this many seconds per kind of send error


class ChatServer:
    """One server: the unicast socket, the multicast sender, the core and the log."""

    def __init__(self, options: ServerOptions, log: LogSink) -> None:
        self.options = options
        self.log = log
        self.core = ServerCore(options.config)
        self.group_addr = (options.group, options.group_port)
        self._stopping = False
        self._send_errors: dict[str, tuple[float, int]] = {}  # kind -> (last logged, unlogged)
        self.sock = unicast_socket(options.host, options.port, "listen")
        try:
            self.sender = group_sender(options.interface, options.ttl, options.loop)
        except OSError as exc:
            self.sock.close()
            raise SocketSetupError(
                f"cannot send multicast from interface {options.interface}: {why(exc)}"
            ) from exc
        self._waker = Waker()

    @property
    def address(self) -> tuple[str, int]:
        address: tuple[str, int] = self.sock.getsockname()
        return address

    def stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        """Ask the loop to end; safe from a signal handler or another thread."""
        self._stopping = True
        self._waker.wake()

    def install_signal_handlers(self) -> Callable[[], None]:
        """Route SIGINT/SIGTERM to ``stop``; returns a function that restores them."""
        previous = {sig: signal.signal(sig, self.stop) for sig in stop_signals()}
        old_wakeup = self._waker.wake_on_signals()

        def restore() -> None:
            signal.set_wakeup_fd(old_wakeup)
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        return restore

    def serve_forever(self) -> None:
        """Run until ``stop``; no datagram can end this loop."""
        core, sock, log = self.core, self.sock, self.log
        recvfrom, perform = sock.recvfrom, self._perform
        clock = time.monotonic
        while not self._stopping:
            try:
                data, addr = recvfrom(READ_SIZE)
            except BlockingIOError:
                self._wait(clock())
                continue
            except InterruptedError:
                continue
            except OSError as exc:  # e.g. a pending ICMP error: not fatal
                self._send_error("receive", exc)
                continue
            try:
                actions = core.receive(data, addr, clock())
            except Exception as exc:  # a bug must cost one datagram, never the server
                log.line(f"internal error on a datagram from {addr!r}: {exc!r}")
                continue
            perform(actions)
        log.flush()

    def _wait(self, now: float) -> None:
        """Wait for a datagram, a signal, the core's next deadline or the log's."""
        waits = [IDLE_WAIT]
        for deadline in (self.core.next_deadline(), self.log.flush_deadline()):
            if deadline is not None:
                waits.append(deadline - now)
        timeout = max(0.0, min(waits))
        readable, _, _ = select.select([self.sock, self._waker.reader], [], [], timeout)
        if self._waker.reader in readable:
            self._waker.drain()
        now = time.monotonic()
        due = self.core.next_deadline()
        if due is not None and now >= due:
            self._perform(self.core.handle_timer(now))
        flush_due = self.log.flush_deadline()
        if flush_due is not None and now >= flush_due:
            self.log.flush()

    def _perform(self, actions: list[ServerAction]) -> None:
        # isinstance, not match: class patterns cost 0.2-0.4 us more per chat line
        # (measured), 2-3% of the server's whole cost per line.  Most frequent first.
        verbosity = self.options.verbosity
        for action in actions:
            if isinstance(action, SendToGroup):
                self._send(action.data, self.group_addr, self.sender)
            elif isinstance(action, RequestArrived):
                if verbosity:
                    self.log.line(request_line(action))
            elif isinstance(action, SendToAddress):
                self._send(action.data, action.addr, self.sock)
            elif isinstance(action, RequestRejected):
                if verbosity:
                    self.log.line(rejection_line(action))
            elif isinstance(action, RejectionsSummarised):
                if verbosity:
                    self.log.line(summary_line(action))
            else:
                assert_never(action)

    def _send(self, data: bytes, addr: tuple[str, int], sock: socket.socket) -> None:
        try:
            sock.sendto(data, addr)
        except OSError as exc:  # no route, buffer full, ...: log (rarely) and go on
            self._send_error("send", exc)
            return
        if self.options.verbosity >= Verbosity.VERBOSE:
            self.log.line(f"sent {data!r} to {addr!r}")

    def _send_error(self, what: str, exc: OSError) -> None:
        key = f"{what}: {exc.strerror or exc}"
        now = time.monotonic()
        last, unlogged = self._send_errors.get(key, (-SEND_ERROR_LOG_INTERVAL, 0))
        if now - last < SEND_ERROR_LOG_INTERVAL:
            self._send_errors[key] = (last, unlogged + 1)
            return
        more = f" (and {unlogged} more since the last such line)" if unlogged else ""
        self.log.line(f"{what} error: {exc.strerror or exc}{more}")
        self._send_errors[key] = (now, 0)

    def close(self) -> None:
        for sock in (self.sock, self.sender):
            sock.close()
        self._waker.close()
