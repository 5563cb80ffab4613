"""The client's I/O layer: the ClientCore with its sockets, worker, inbox and timer.

As aioquic keeps ``asyncio/`` (I/O) beside ``quic/`` (no I/O), this drives the
sans-I/O ``ClientCore`` and nothing else: it opens the sockets, runs the receiving
worker, drains what the worker hands over, runs the core's timer, and carries out
the sends the core asks for.  Every other event goes, in one ``Batch``, to whoever
shows them (the bridge).  No view, no model, no file here.

Threading (the answer to the assignment's race condition): the GUI lives in the main
thread, and only the main thread touches the ClientCore and the list models.  The
worker (``receiver.Receiver``) blocks on the sockets and hands what it reads to an
``Inbox``; it then emits ``_wake``, a signal of this object, which lives in the main
thread, so Qt delivers it as a queued call that starts the drain timer: ``drain``
runs in the main thread, takes what has arrived (as much as one pass may) and runs it
through the core.  Sending happens in the main thread (a UDP ``sendto`` does not block).
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from protocol_lib import ClientConfig, ClientCore, ClientEvent, SendDatagram
from protocol_lib.io.net import (
    ANY_INTERFACE,
    SocketSetupError,
    cannot_join,
    group_receiver,
    server_sources,
    unicast_socket,
)
from protocol_lib.ratelimit import client_pace

from .cli import ClientOptions
from .commands import TypedEvent
from .receiver import Inbox, Receiver

DRAIN_SLICE = 250  # datagrams taken from the inbox at a time
DRAIN_BUDGET = 0.002  # seconds of reading per event-loop pass; input and timers come between


@dataclass(slots=True)
class Batch:
    """What one drain pass, tick or user action gives the view, in the order it shows it."""

    events: Sequence[TypedEvent]  # the core's events (sends already carried out), the window's
    problems: list[str] = field(default_factory=list)  # receive errors: shown first
    dropped: int = 0  # datagrams the inbox dropped meanwhile (said after the problems)
    send_failures: list[str] = field(default_factory=list)  # shown after the batch's lines
    paced: bool = False  # read from the network: its lines may wait a moment for the view


class ClientDriver(QObject):
    """Owns the core, the two sockets, the worker, the drain and the core's timer."""

    _wake = Signal()  # emitted by the worker thread; delivered queued in the GUI thread

    def __init__(
        self,
        options: ClientOptions,
        deliver: Callable[[Batch], bool],
        config: ClientConfig | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.options = options
        self.deliver = deliver
        config = config or ClientConfig(
            send_limit=client_pace(options.server_limit), relay_style=options.relay
        )
        if not config.server_sources:  # only the server's datagrams change our state
            sources = server_sources(options.server, options.server_sources)
            config = dataclasses.replace(
                config, server_sources=sources, server_port=config.server_port or options.port
            )
        self.core = ClientCore(config)
        self.sock: socket.socket | None = None
        self.group_sock: socket.socket | None = None
        self.inbox = Inbox()
        self.receiver: Receiver | None = None
        self.closed = False
        self.drain_threads: set[int] = set()  # where drain ran (must be the GUI thread)
        self._tick_timer = QTimer(self)
        self._tick_timer.setSingleShot(True)
        self._tick_timer.timeout.connect(self.tick)
        # Each drain pass runs as a timer, not as a posted event: Qt's glib event loop
        # dispatches posted events before timers, and decides which timers are due before
        # either, so a pass that posts the next one runs two passes before any timer, and
        # timers are what bring frames (update requests) and the view's own clocks.
        self.drain_timer = QTimer(self)
        self.drain_timer.setSingleShot(True)
        self.drain_timer.setInterval(0)
        self.drain_timer.timeout.connect(self.drain)
        self._wake.connect(self.drain_timer.start)

    def start(self) -> str | None:
        """Open the sockets and start the worker; what went wrong, in one line, if it failed."""
        opts = self.options
        try:
            try:
                self.group_sock = group_receiver(opts.group, opts.group_port, opts.interface)
            except OSError as exc:
                why_not = cannot_join(exc, opts.group, opts.group_port, opts.interface)
                raise SocketSetupError(why_not) from exc
            bind_ip = opts.interface if opts.interface != ANY_INTERFACE else ""
            self.sock = unicast_socket(bind_ip, 0, "open the socket to the server")
        except SocketSetupError as exc:
            if self.group_sock is not None:
                self.group_sock.close()
                self.group_sock = None
            return str(exc)
        self.receiver = Receiver([self.group_sock, self.sock], self.inbox, self._wake.emit)
        self.receiver.start()
        return None

    def carry_out(self, batch: Batch) -> bool:
        """Send what the core asked to send, deliver the rest, arm the core's timer;
        what ``deliver`` answers (False: a line of the batch says something went wrong)."""
        # One pass that finds none in the common case (a drain of others' lines).
        sends = [event for event in batch.events if type(event) is SendDatagram]
        if sends:
            for send in sends:
                failure = self._send(send.data)
                if failure is not None:
                    batch.send_failures.append(failure)
            batch.events = [event for event in batch.events if type(event) is not SendDatagram]
        shown = self.deliver(batch)
        if not self.closed:
            self._schedule_tick()
        return shown

    def act(self, events: Sequence[TypedEvent]) -> bool:
        """Carry out what a user action made the core decide (shown at once)."""
        return self.carry_out(Batch(events))

    @Slot()
    def drain(self) -> None:
        """One pass over what the worker has handed over, within DRAIN_BUDGET."""
        if self.closed:
            return
        self.drain_threads.add(threading.get_ident())
        start = time.monotonic()
        events: list[ClientEvent] = []
        batch = Batch(events, paced=True)
        more = True
        while more and time.monotonic() - start < DRAIN_BUDGET:
            datagrams, errors, dropped, more = self.inbox.take(DRAIN_SLICE)
            events += self.core.receive_all(datagrams, time.monotonic())
            batch.problems += errors
            batch.dropped += dropped
        if more:  # let the event loop paint and take input before the next pass
            self.drain_timer.start()
        self.carry_out(batch)

    @Slot()
    def tick(self) -> None:
        if not self.closed:
            self.carry_out(Batch(self.core.handle_timer(time.monotonic())))

    def shutdown(self, say_exit: bool = True) -> None:
        """Say exit if in the chat, stop and join the worker, close the sockets.

        ``say_exit=False`` leaves like a crashed client (tests of takeover).
        Afterwards nothing is armed: no tick, no drain.
        """
        if self.closed:
            return
        if self.sock is not None and say_exit:
            self.act(self.core.close(time.monotonic()))
        self.closed = True
        self._tick_timer.stop()
        if self.receiver is not None:
            self.receiver.stop()
            self.receiver.join(timeout=5)
            self.receiver = None
        for sock in (self.sock, self.group_sock):
            if sock is not None:
                sock.close()
        self.sock = self.group_sock = None

    @property
    def worker_alive(self) -> bool:
        return self.receiver is not None and self.receiver.is_alive()

    def _send(self, data: bytes) -> str | None:
        if self.sock is None:
            return "not connected: the chat sockets are closed"
        try:
            self.sock.sendto(data, (self.options.server, self.options.port))
        except OSError as exc:
            return f"could not send: {exc.strerror or exc}"
        return None

    def _schedule_tick(self) -> None:
        deadline = self.core.next_deadline()
        if deadline is None:
            self._tick_timer.stop()
            return
        delay_ms = max(0, int((deadline - time.monotonic()) * 1000) + 1)
        self._tick_timer.start(delay_ms)
