"""The socket loop: receive datagrams, let ServerCore decide, carry out its actions.

Measured on this machine, a plain ``recvfrom`` loop keeps up with several times
more datagrams per second than asyncio's DatagramProtocol.  The socket blocks
with a short kernel timeout (``WAKE_INTERVAL``), which bounds how late a timer,
the log's flush or a stop request (SIGINT/SIGTERM set a flag) can be.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
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
from protocol_lib.federated_server import FederatedServerCore
from protocol_lib.federation import (
    ClaimName,
    FederationConfig,
    FederationNotice,
    Publish,
    ReleaseNames,
)
from protocol_lib.io.net import (
    NOWAIT_FLAG,
    READ_SIZE,
    SocketSetupError,
    block_with_kernel_timeout,
    group_sender,
    receive_from,
    reports_an_earlier_send,
    unicast_socket,
    why,
)
from protocol_lib.io.waker import stop_signals
from protocol_lib.server_events import HostSweeping, SessionEvicted

from .cli import ServerOptions, Verbosity
from .federation import FederationLink
from .logfmt import LogSink, warning_line
from .wakeups import WakeUps

WAKE_INTERVAL = 0.1  # seconds: under traffic, the longest a timer or the log's flush waits
# At rest the loop blocks until its next timer is due, at most this long: a server that has
# nothing to do does not wake 10 times a second.  A stop or a SIGHUP wakes it at once (a
# datagram from its own waker socket).  Not on Windows, where a signal does not interrupt a
# receive: there the loop keeps looking every WAKE_INTERVAL.
REST_INTERVAL = 5.0 if sys.platform != "win32" else WAKE_INTERVAL
SEND_ERROR_LOG_INTERVAL = 5.0  # at most one line per this many seconds per kind of send error


class ChatServer:
    """One server: the unicast socket, the multicast sender, the core and the log."""

    def __init__(self, options: ServerOptions, log: LogSink) -> None:
        self.options = options
        self.log = log
        self.federation: FederationLink | None = None
        federation = None
        self.core: ServerCore
        if options.federation is not None:
            federation = FederationConfig(
                options.federation.site, time.time_ns(), options.federation.site_timeout
            )
            self.core = FederatedServerCore(options.config, federation)
        else:
            self.core = ServerCore(options.config)
        self.group_addr = (options.group, options.group_port)
        self._stopping = False
        self._reopen_log = False  # SIGHUP: reopen the log file at the next timer pass
        self.stopped = threading.Event()  # set when serve_forever has ended (byes said)
        self._log_sends = options.verbosity >= Verbosity.VERBOSE  # read per datagram sent
        self._send_errors: dict[str, tuple[float, int]] = {}  # kind -> (last logged, unlogged)
        self.sock = unicast_socket(options.host, options.port, "listen")
        try:
            self.sender = group_sender(options.interface, options.ttl, options.loop)
        except OSError as exc:
            self.sock.close()
            raise SocketSetupError(
                f"cannot send multicast from interface {options.interface}: {why(exc)}"
            ) from exc
        if options.federation is not None and federation is not None:
            self.federation = FederationLink(options.federation, federation, self.address)
        # The loop's own alarm clock: an empty datagram from here ends a wait at rest.
        host = self.address[0]
        self._wake_target = ("127.0.0.1" if host in ("0.0.0.0", "") else host, self.address[1])
        self._waker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._waker.bind((self._wake_target[0], 0))
        self.wake_addr: tuple[str, int] = self._waker.getsockname()
        self._timeout = WAKE_INTERVAL  # the receive's kernel timeout now (SO_RCVTIMEO)

    @property
    def address(self) -> tuple[str, int]:
        address: tuple[str, int] = self.sock.getsockname()
        return address

    def say_ready(self) -> None:
        """The spec's first line: ``Multiuser server is ready on HOST:PORT!``."""
        host, port = self.address
        self.log.plain(f"Multiuser server is ready on {host}:{port}!")

    def say_stopped(self) -> None:
        """The last line: what the server did while it ran."""
        core = self.core
        self.log.plain(
            f"Multiuser server stopped: {core.received} datagrams received, "
            f"{core.relayed} relayed, {core.rejections.total()} rejected."
        )

    def stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        """Ask the loop to end (at once); safe from a signal handler or a thread."""
        self._stopping = True
        self._wake()

    def reopen_log(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        """Ask the loop to reopen ``--log-file`` (SIGHUP: logrotate renamed it); safe from a
        signal handler: the loop does it at once."""
        self._reopen_log = True
        self._wake()

    def _wake(self) -> None:
        """End the loop's wait: an empty datagram from its own waker (nothing a client sends)."""
        try:
            self._waker.sendto(b"", self._wake_target)
        except OSError:  # closed, or the network is gone: the next timeout comes anyway
            pass

    def _rest(self, now: float) -> None:
        """Idle: block until the next timer is due (the core's, the log's trail), at most
        REST_INTERVAL; a datagram ends the wait as before."""
        wait = REST_INTERVAL
        for due in (self.core.next_deadline(), self.log.flush_deadline()):
            if due is not None:
                wait = min(wait, due - now)
        self._set_timeout(max(wait, WAKE_INTERVAL))

    def _set_timeout(self, seconds: float) -> None:
        if seconds != self._timeout:
            self._timeout = seconds
            block_with_kernel_timeout(self.sock, seconds)

    def install_signal_handlers(self) -> Callable[[], None]:
        """Route SIGINT/SIGTERM to ``stop`` and SIGHUP (where there is one) to ``reopen_log``;
        returns a function that restores them."""
        previous = {sig: signal.signal(sig, self.stop) for sig in stop_signals()}
        hangup = getattr(signal, "SIGHUP", None)
        if hangup is not None:
            previous[hangup] = signal.signal(hangup, self.reopen_log)

        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        return restore

    def serve_forever(self) -> None:
        """Run until ``stop``; no datagram can end this loop.

        ``recvfrom`` blocks in the kernel for at most WAKE_INTERVAL (SO_RCVTIMEO): one
        syscall per datagram.  (A Python socket timeout adds a poll to every
        datagram, and under a flood a paced user then lost 2 lines in 100; a
        non-blocking socket costs a failing recvfrom and a select at every pause.)
        Under load the loop sleeps between batches instead of being woken by each
        datagram (wakeups.py): a failing non-blocking recvfrom and a sleep per batch;
        the log's records are formatted before it sleeps.
        Timers (the log's flush, the core's rejection summaries) run when a receive
        times out, and at least every WAKE_INTERVAL under traffic.
        """
        core, sock, log = self.core, self.sock, self.log
        recvfrom, perform = receive_from(sock, WAKE_INTERVAL), self._perform
        clock = time.monotonic
        wakeups = WakeUps()
        woke = wakeups.woke
        flags = 0  # NOWAIT_FLAG (MSG_DONTWAIT) while coalescing
        timers_due = clock() + WAKE_INTERVAL
        link = self.federation
        wake_addr = link.wake_addr if link is not None else None
        if link is not None:
            link.start()
        while not self._stopping:
            try:
                data, addr = recvfrom(READ_SIZE, flags)
            except (BlockingIOError, TimeoutError):  # coalescing: the queue is empty;
                # else WAKE_INTERVAL idle (Windows says so with TimeoutError)
                flags, timers_due = self._queue_empty(wakeups, flags, timers_due)
                continue
            except OSError as exc:  # e.g. a pending ICMP error: not fatal
                self._receive_error(exc)
                continue
            if not data and (addr == wake_addr or addr == self.wake_addr):
                # the broker's thread has news, or a stop, a SIGHUP: timers see to them
                timers_due = self._run_timers(clock())
                continue
            if self._timeout != WAKE_INTERVAL:  # traffic after a rest: timers every 0.1 s
                self._set_timeout(WAKE_INTERVAL)
            now = clock()
            flags = NOWAIT_FLAG if woke(now) else 0
            try:
                actions = core.receive(data, addr, now)
            except Exception as exc:  # a bug must cost one datagram, never the server
                log.line(f"internal error on a datagram from {addr!r}: {exc!r}")
                continue
            perform(actions)
            if not flags:  # not coalescing: nothing else to do before the next datagram
                log.format_pending()
            if now >= timers_due:
                timers_due = self._run_timers(now)
        self._farewell()
        self.stopped.set()

    def _queue_empty(self, wakeups: WakeUps, flags: int, timers_due: float) -> tuple[int, float]:
        """Nothing to receive.  Coalescing: the batch is done; format the log's records,
        then sleep before the next batch (flags stay NOWAIT_FLAG) or block again (0).
        Else WAKE_INTERVAL went by without a datagram.  Timers run when due."""
        if flags:
            self.log.format_pending()
            pause = wakeups.queue_empty()
            if pause is None:
                flags = 0
            else:
                time.sleep(pause)
            if time.monotonic() < timers_due:
                return flags, timers_due
        timers_due = self._run_timers(time.monotonic())
        if not flags:  # a wait ran out with nothing to read: rest until the next timer
            self._rest(time.monotonic())
        return flags, timers_due

    def _farewell(self) -> None:
        """A ``bye`` for every user, so that no client stays "in chat" with a server that
        is gone; federated, the other sites hear it and the names are released."""
        farewells = self.core.close()
        users = sum(isinstance(action, SendToGroup) for action in farewells)
        self._perform(farewells)
        if users and self.options.verbosity:
            self.log.line(f"stopping: bye sent to the group for {users} user(s)")
        if self.federation is not None:
            self.federation.stop()
            for note in self.federation.notes():
                self.log.line(note)
        self.log.flush()

    def _take_federation_inputs(self, now: float) -> None:
        """Other sites' events, heartbeats, claim answers: to the core, in order."""
        link = self.federation
        assert link is not None
        for note in link.notes():
            self.log.line(note)
        core, perform = self.core, self._perform
        assert isinstance(core, FederatedServerCore)
        for item in link.inputs():
            try:
                perform(core.federated(item, now))
            except Exception as exc:  # a bug must cost one event, never the server
                self.log.line(f"internal error on federation input {item!r}: {exc!r}")

    def _run_timers(self, now: float) -> float:
        """Do what is due (a rejection summary, the log's flush); when to look again."""
        if self.federation is not None:
            self._take_federation_inputs(now)
        due = self.core.next_deadline()
        if due is not None and now >= due:
            self._perform(self.core.handle_timer(now))
        if self._reopen_log:
            self._reopen_log = False
            self.log.reopen()
            self.log.line("log file reopened (SIGHUP)")  # the new file's first line
        flush_due = self.log.flush_deadline()
        if flush_due is not None and now >= flush_due:
            self.log.flush()
        return now + WAKE_INTERVAL

    def _perform(self, actions: list[ServerAction]) -> None:
        # isinstance, not match: class patterns cost 0.2-0.4 us more per chat line
        # (measured), 2-3% of the server's whole cost per line.  Most frequent first.
        verbosity = self.options.verbosity
        for action in actions:
            if isinstance(action, SendToGroup):
                self._send(action.data, self.group_addr, self.sender)
            elif isinstance(action, RequestArrived):
                if verbosity:
                    self.log.event(action)
            elif isinstance(action, (Publish, ClaimName, ReleaseNames, FederationNotice)):
                self._federate(action)
            elif isinstance(action, SendToAddress):
                self._send(action.data, action.addr, self.sock)
            elif isinstance(action, (RequestRejected, RejectionsSummarised)):
                if verbosity:
                    self.log.event(action)
            elif isinstance(action, (HostSweeping, SessionEvicted)):
                self.log.line(warning_line(action))
            else:
                assert_never(action)

    def _federate(self, action: Publish | ClaimName | ReleaseNames | FederationNotice) -> None:
        if isinstance(action, FederationNotice):
            self.log.line(f"federation: {action.text}")
        elif self.federation is not None:
            self.federation.submit(action)

    def _send(self, data: bytes, addr: tuple[str, int], sock: socket.socket) -> None:
        try:
            sock.sendto(data, addr)
        except OSError as exc:  # no route, buffer full, ...: log (rarely) and go on
            self._send_error("send", exc)
            return
        if self._log_sends:
            self.log.line(f"sent {data!r} to {addr!r}")

    def _receive_error(self, exc: OSError) -> None:
        """Logged (rarely), except Windows' reports of what became of an earlier send (a
        reply to a client that has gone): those say nothing about this socket."""
        if not reports_an_earlier_send(exc):
            self._send_error("receive", exc)

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
        for sock in (self.sock, self.sender, self._waker):
            sock.close()
