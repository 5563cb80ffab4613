"""When the socket loop stops waking up once per datagram.

A ``recvfrom`` that blocks and is woken by a datagram costs a context switch,
and on this machine that is most of what relaying a line costs (perf at 20,000
lines/s: ``finish_task_switch`` was 45% of a minimal relay's samples).  So under
load the loop coalesces wake-ups, as a network card's driver does: it sleeps
``COALESCE_SECONDS``, then takes everything that arrived without blocking, and
sleeps again.  At 20,000 lines/s that is ~20 lines per wake-up instead of one.

The price is latency, and only under load: a relay waits up to
``COALESCE_SECONDS`` (half of it on average) more.  A chat at a human pace
(well under ``BUSY_RUN / BUSY_WINDOW`` datagrams a second) never coalesces and every line
is relayed the moment it arrives.

No clock or socket here: the loop reports what happened and asks what to do,
so the policy is tested without a network and without sleeping.
"""

from __future__ import annotations

COALESCE_SECONDS = 0.001  # the sleep between batches: the added latency under load
BUSY_RUN = 8  # this many datagrams ...
BUSY_WINDOW = 0.002  # ... within this many seconds (4,000 a second and up): start coalescing
IDLE_BATCH = 3  # a batch smaller than this (under ~2,800 a second): wake per datagram again


class WakeUps:
    """Decides between one wake-up per datagram and one per batch.

    Load is judged by the average over a short window, not by the gaps between
    two datagrams: senders come in bunches (a client's burst, a paced sender's
    tick), and a gap-by-gap rule missed 5,000 logins a second arriving in
    twos and threes.
    """

    __slots__ = ("coalescing", "_window_start", "_count", "_batch")

    def __init__(self) -> None:
        self.coalescing = False  # True: receive without blocking, sleep when the queue is empty
        self._window_start = float("-inf")  # when the current window's first datagram came
        self._count = 0  # datagrams in the current window
        self._batch = 0  # datagrams taken since the last sleep

    def woke(self, now: float) -> bool:
        """A datagram was received at ``now``; True while coalescing."""
        if self.coalescing:
            self._batch += 1
            return True
        if now - self._window_start > BUSY_WINDOW:
            self._window_start, self._count = now, 1
            return False
        self._count += 1
        if self._count >= BUSY_RUN:
            self.coalescing = True
            self._batch = self._count  # the window that started it is its first batch
        return self.coalescing

    def queue_empty(self) -> float | None:
        """While coalescing, the receive queue ran dry: seconds to sleep before taking
        the next batch, or None to block for each datagram again (the load has gone)."""
        if self._batch < IDLE_BATCH:
            self.coalescing = False
            self._window_start = float("-inf")
            return None
        self._batch = 0
        return COALESCE_SECONDS
