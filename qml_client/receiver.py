"""The worker thread that reads datagrams, so the GUI never blocks on a socket.

It watches two sockets: the multicast group (where the server talks to
everyone) and the client's own unicast socket (where some servers send list
replies to the asker only).  It never touches Qt models: it appends batches
to an ``Inbox`` and wakes the GUI thread with one queued signal per batch of
batches; the GUI thread drains what has arrived in slices it can afford.
That is the coalescing that keeps a flood from stalling the event loop.

Under a flood the worker also sleeps between reads (``pause_after``), as the
server's loop does (server_app/wakeups.py): woken by every few datagrams, it
took the interpreter from the GUI thread every time (figures: benchmarks/README.md,
"Client").  The kernel's receive buffer holds what arrives meanwhile; a pause
lets at most ~100 datagrams gather, and never more than a quarter of the buffer.

The inbox is bounded (``INBOX_BYTES``): when the view cannot keep up, the
oldest datagrams waiting are dropped and counted, and the view says how many.
Dropping the oldest keeps what is current; memory stays bounded whatever
arrives, where an unbounded inbox grew the client from 89 to 830 MB under
100k welcomes.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable

from protocol_lib.io.net import READ_SIZE, reports_an_earlier_send
from protocol_lib.io.waker import Waker

MAX_BATCH = 4096  # datagrams read before handing over, so the GUI sees progress under a flood
# Waiting datagrams: ~130k chat lines, 16k of the largest: a 2 s burst at 200k/s leaves up
# to ~60k waiting while the view takes ~170-200k lines a second (benchmarks/README.md).
INBOX_BYTES = 16 * 1024 * 1024
_OVERHEAD = 100  # bytes a waiting datagram costs beyond its data (tuple, bytes and str headers)
BUSY_BATCH = 8  # a read that found this many datagrams waiting: a flood, pause before the next
PAUSE_SECONDS = 0.002  # the longest pause between reads under a flood
PAUSE_BATCH = 100  # datagrams a pause lets gather at most: ~0.15 ms of the worker's reading
BUFFER_SHARE = 0.25  # the share of the kernel's receive buffer a pause may fill, on average
KERNEL_BYTES_PER_DATAGRAM = 1024  # what a waiting datagram costs the buffer (832 for a chat line)

Datagram = tuple[bytes, tuple[str, int]]  # what came, and from which address and port
"""What was read and the IP address it came from (only the server's is believed)."""


def _size(datagrams: list[Datagram]) -> int:
    """What waiting datagrams count against ``INBOX_BYTES``: their data and overhead."""
    return sum([len(data) for data, _ in datagrams]) + _OVERHEAD * len(datagrams)


class Inbox:
    """A lock-protected hand-over point between the worker and the GUI thread.

    ``put`` returns True only when the inbox goes from empty to non-empty,
    so the worker emits one wake-up per drain, not one per datagram.
    """

    def __init__(self, max_bytes: int = INBOX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._datagrams: deque[Datagram] = deque()
        self._bytes = 0
        self._errors: list[str] = []
        self._dropped = 0  # oldest datagrams dropped since the last take

    def put(self, datagrams: list[Datagram], errors: list[str]) -> bool:
        with self._lock:
            was_empty = not self._datagrams and not self._errors and not self._dropped
            self._datagrams.extend(datagrams)
            self._bytes += _size(datagrams)
            if self._bytes > self.max_bytes:
                self._drop_oldest()
            self._errors.extend(errors)
            return was_empty

    def _drop_oldest(self) -> None:
        popleft = self._datagrams.popleft
        while self._bytes > self.max_bytes and self._datagrams:
            self._bytes -= len(popleft()[0]) + _OVERHEAD
            self._dropped += 1

    def take(self, limit: int) -> tuple[list[Datagram], list[str], int, bool]:
        """Up to ``limit`` datagrams, all errors, how many were dropped, whether more wait.

        While more wait, ``put`` sends no wake-up: the taker must come back.
        """
        with self._lock:
            popleft = self._datagrams.popleft
            datagrams = [popleft() for _ in range(min(limit, len(self._datagrams)))]
            self._bytes -= _size(datagrams)
            errors, self._errors = self._errors, []
            dropped, self._dropped = self._dropped, 0
            return datagrams, errors, dropped, bool(self._datagrams)


def pause_after(batch: int, seconds: float, buffer_bytes: int) -> float:
    """How long the worker sleeps after reading ``batch`` datagrams that came in
    ``seconds`` (since the read before), when the kernel holds ``buffer_bytes``.

    No pause at a chat's pace: a line is read the moment it arrives.  Under a
    flood, at most PAUSE_SECONDS, and less when the rate seen would gather more than
    PAUSE_BATCH datagrams (reading them holds the interpreter, which the GUI thread
    then waits for: with 2 ms pauses at 200k/s the view fell behind and the inbox
    dropped lines in 4 of 5 runs) or fill more than BUFFER_SHARE of the buffer (the
    kernel drops what does not fit: a default Linux buffer holds ~500 chat lines).
    """
    if batch < BUSY_BATCH:
        return 0.0
    room = min(PAUSE_BATCH, buffer_bytes * BUFFER_SHARE / KERNEL_BYTES_PER_DATAGRAM)
    rate = batch / seconds if seconds > 0 else float("inf")
    return min(PAUSE_SECONDS, room / rate)


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
        self._waker = Waker()
        self._stopping = threading.Event()
        self._buffer_bytes = min(
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) for sock in sockets
        )
        self.received = 0
        self.pauses = 0  # reads followed by a pause: a flood was coming in

    def stop(self) -> None:
        """Ask the thread to end now (it is blocked in select: wake it)."""
        self._stopping.set()
        self._waker.wake()

    def run(self) -> None:
        selector = selectors.DefaultSelector()
        for sock in self._sockets:
            selector.register(sock, selectors.EVENT_READ)
        selector.register(self._waker.reader, selectors.EVENT_READ)
        clock, sleep, buffer_bytes = time.monotonic, time.sleep, self._buffer_bytes
        last_read, paused = clock(), False
        try:
            while not self._stopping.is_set():
                ready = selector.select()  # until a datagram, or stop's wake-up
                woke = clock()
                datagrams: list[Datagram] = []
                errors: list[str] = []
                for key, _ in ready:
                    if key.fileobj is self._waker.reader:
                        continue
                    self._drain(key.fileobj, datagrams, errors)  # type: ignore[arg-type]
                if (datagrams or errors) and not self._stopping.is_set():
                    self.received += len(datagrams)
                    if self._inbox.put(datagrams, errors):
                        self._notify()
                # After a pause the batch came in since the last read; after a wait in
                # select, since the wake-up (a flood's first batch: a short first pause).
                now = clock()
                since = last_read if paused else woke
                pause = pause_after(len(datagrams), now - since, buffer_bytes)
                last_read, paused = now, pause > 0
                if paused:
                    self.pauses += 1
                    sleep(pause)
        finally:
            selector.close()
            self._waker.close()

    @staticmethod
    def _drain(sock: socket.socket, datagrams: list[Datagram], errors: list[str]) -> None:
        recvfrom = sock.recvfrom
        append = datagrams.append
        while len(datagrams) < MAX_BATCH:
            try:
                append(recvfrom(READ_SIZE))
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. an ICMP error reported on the unicast socket
                if reports_an_earlier_send(exc):  # Windows: a send to a server not there
                    continue  # datagrams may follow
                errors.append(f"receive error: {exc.strerror or exc}")
                return
