"""The worker thread that reads datagrams, so the GUI never blocks on a socket.

It watches two sockets: the multicast group (where the server talks to
everyone) and the client's own unicast socket (where some servers send list
replies to the asker only).  It never touches Qt models: it appends batches
to an ``Inbox`` and wakes the GUI thread with one queued signal per batch of
batches; the GUI thread drains everything that has arrived in one go.  That
is the coalescing that keeps a flood from stalling the event loop.
"""

from __future__ import annotations

import selectors
import socket
import threading
from collections.abc import Callable

from protocol_lib.net import READ_SIZE

MAX_BATCH = 4096  # datagrams read before handing over, so the GUI sees progress under a flood

Datagram = tuple[bytes, str]
"""What was read and the IP address it came from (only the server's is believed)."""


class Inbox:
    """A lock-protected hand-over point between the worker and the GUI thread.

    ``put`` returns True only when the inbox goes from empty to non-empty,
    so the worker emits one wake-up per drain, not one per datagram.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._datagrams: list[Datagram] = []
        self._errors: list[str] = []

    def put(self, datagrams: list[Datagram], errors: list[str]) -> bool:
        with self._lock:
            was_empty = not self._datagrams and not self._errors
            self._datagrams.extend(datagrams)
            self._errors.extend(errors)
            return was_empty

    def take(self, limit: int) -> tuple[list[Datagram], list[str], bool]:
        """Up to ``limit`` datagrams and all errors; the flag says whether more wait.

        While more wait, ``put`` sends no wake-up: the taker must come back.
        """
        with self._lock:
            datagrams = self._datagrams[:limit]
            del self._datagrams[:limit]
            errors, self._errors = self._errors, []
            return datagrams, errors, bool(self._datagrams)


class Receiver(threading.Thread):
    """Reads the group and unicast sockets until ``stop``; wakes the GUI via ``notify``."""

    def __init__(
        self, sockets: list[socket.socket], inbox: Inbox, notify: Callable[[], None]
    ) -> None:
        super().__init__(name="lanchat-receiver", daemon=True)
        for sock in sockets:  # configured here, in the creating thread, before run() starts
            sock.setblocking(False)
        self._sockets = sockets
        self._inbox = inbox
        self._notify = notify
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping = threading.Event()
        self.received = 0

    def stop(self) -> None:
        """Ask the thread to end now (it is blocked in select: wake it)."""
        self._stopping.set()
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass

    def run(self) -> None:
        selector = selectors.DefaultSelector()
        for sock in self._sockets:
            selector.register(sock, selectors.EVENT_READ)
        selector.register(self._wake_r, selectors.EVENT_READ)
        try:
            while not self._stopping.is_set():
                ready = selector.select(timeout=1.0)
                datagrams: list[Datagram] = []
                errors: list[str] = []
                for key, _ in ready:
                    if key.fileobj is self._wake_r:
                        continue
                    self._drain(key.fileobj, datagrams, errors)  # type: ignore[arg-type]
                if (datagrams or errors) and not self._stopping.is_set():
                    self.received += len(datagrams)
                    if self._inbox.put(datagrams, errors):
                        self._notify()
        finally:
            selector.close()
            self._wake_r.close()
            self._wake_w.close()

    @staticmethod
    def _drain(sock: socket.socket, datagrams: list[Datagram], errors: list[str]) -> None:
        recvfrom = sock.recvfrom
        append = datagrams.append
        while len(datagrams) < MAX_BATCH:
            try:
                data, addr = recvfrom(READ_SIZE)
                append((data, addr[0]))
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. an ICMP error reported on the unicast socket
                errors.append(f"receive error: {exc.strerror or exc}")
                return
