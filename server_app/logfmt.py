"""The server's log lines, in the assignment's format, and where they go.

The spec's lines are ``<datetime.now()> <what> has arrived from <user>@<addr>``;
we keep that shape exactly (people grep for it) and add lines of the same style
for rejections and their flood summaries.  Lines are buffered and handed over
``FLUSH_INTERVAL`` seconds after the first of them (the server's select wakes
up for that deadline), never per line: at 20,000 lines a second, flushing
whenever the socket went idle meant a hand-over to the writer thread per line
or two, and cost 9 us of the server's CPU per line (measured: 28 -> 37 us).

The log never holds up the relay.  Writing happens in a thread per target
(stdout, the log file): a terminal that is paused, a ``| tee`` that stopped
reading or a slow disk blocks that thread only.  What waits for it is bounded
(``BACKLOG_BYTES``); lines beyond are dropped, counted, and summarised in one
line as soon as the target takes writes again.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from datetime import datetime
from typing import BinaryIO

from protocol_lib.server import (
    Address,
    RejectionsSummarised,
    RequestArrived,
    RequestRejected,
)

FLUSH_INTERVAL = 0.1  # seconds: the longest a line waits in the buffer
FLUSH_BYTES = 64 * 1024  # or this much: a batch is a small part of a writer's backlog
BACKLOG_BYTES = 1024 * 1024  # per target: log waiting for a blocked reader (~4,000 lines)


def who(user: str | None, addr: Address) -> str:
    """``thyago@('10.50.26.250', 62648)``, as the spec prints a client."""
    return f"{user}@{addr!r}" if user is not None else repr(addr)


def quoted(text: str) -> str:
    """``text`` in double quotes, escaped only where it could pass for the rest of the line.

    Ordinary text comes out exactly as the spec prints it (``"hello everyone!"``);
    a double quote, a backslash or a character that is not printable (line
    breaks, bidirectional controls that reorder what a terminal shows) becomes
    a backslash escape, so the closing quote is always ours and a message can
    never forge ``has arrived from`` another user.
    """
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return '"' + "".join(_escaped(ch) for ch in text) + '"'


def _escaped(ch: str) -> str:
    if ch == '"' or ch == "\\":
        return "\\" + ch
    if ch.isprintable():
        return ch
    code = ord(ch)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def request_line(event: RequestArrived) -> str:
    """The spec's line for an accepted request (without the timestamp)."""
    if event.kind == "login":
        line = f"login request has arrived from {who(event.user, event.addr)}"
        if event.takeover_from is not None:
            line += f" (takes the name over from {event.takeover_from!r})"
        return line
    if event.kind == "msg":
        return (
            f"msg {quoted(event.text or '')} has arrived from user: {who(event.user, event.addr)}"
        )
    return f"{event.kind} request has arrived from user: {who(event.user, event.addr)}"


def rejection_line(event: RequestRejected) -> str:
    detail = f" ({event.detail})" if event.detail else ""
    return f"rejected datagram from {who(event.user, event.addr)}: {event.reason}{detail}"


def summary_line(event: RejectionsSummarised) -> str:
    counts = ", ".join(f"{reason} x{n}" for reason, n in event.counts)
    seconds = event.until - event.since
    return (
        f"rejected {event.total} more datagrams from {event.sources} source(s) "
        f"in the last {seconds:.1f}s without logging each: {counts}"
    )


class _Writer(threading.Thread):
    """Writes batches of lines to one target, so a blocked target blocks only this thread."""

    def __init__(self, target: BinaryIO) -> None:
        super().__init__(name="lanchat-log-writer", daemon=True)
        self.target = target
        self._cond = threading.Condition()
        self._queue: deque[tuple[bytes, int]] = deque()
        self._queued_bytes = 0
        self._dropped = 0  # lines not written: backlog full, or the target failed
        self._closing = False
        self.start()

    def submit(self, data: bytes, lines: int) -> None:
        """Queue a batch; never blocks.  Over the backlog the batch is counted, not kept."""
        with self._cond:
            if self._queued_bytes + len(data) > BACKLOG_BYTES:
                self._dropped += lines
                return
            self._queue.append((data, lines))
            self._queued_bytes += len(data)
            self._cond.notify()

    def close(self, timeout: float) -> None:
        """Write what is queued, waiting at most ``timeout`` for a blocked target."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self.join(timeout)

    def run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    return
                data, lines = self._queue.popleft()
                self._queued_bytes -= len(data)
            if self._write(data):
                with self._cond:
                    dropped, self._dropped = self._dropped, 0
                if dropped:
                    # Its own clock read: the relay thread owns LogSink's timestamp cache.
                    stamp = f"{datetime.now():%Y-%m-%d %H:%M:%S.%f}"
                    note = (
                        f"{stamp} {dropped} log line(s) were dropped while the log "
                        "output was blocked or failing (the chat was not held up)\n"
                    )
                    self._write(note.encode())
            else:
                with self._cond:
                    self._dropped += lines

    def _write(self, data: bytes) -> bool:
        try:
            self.target.write(data)
            self.target.flush()
        except (OSError, ValueError):  # a closed terminal, a full disk, a closed file
            return False
        return True


class LogSink:
    """Timestamped lines to stdout (and a log file), batched, written off the relay's path."""

    def __init__(self, stream: BinaryIO, log_file: str | None = None) -> None:
        self._stream = stream
        self._file = open(log_file, "ab") if log_file else None  # closed in close()
        self._buffer: list[bytes] = []
        self._buffered_bytes = 0
        self._due: float | None = None  # when the buffered lines must be handed over
        self._stamp_second = -1
        self._stamp_prefix = ""
        self._writers = [_Writer(t) for t in (stream, self._file) if t]

    @classmethod
    def to_stdout(cls, log_file: str | None = None) -> LogSink:
        """A sink on file descriptor 1 that ignores PYTHONUNBUFFERED's per-print writes."""
        return cls(os.fdopen(os.dup(1), "wb"), log_file)

    def line(self, text: str) -> None:
        """Queue one line with the spec's timestamp (``str(datetime.now())``)."""
        data = f"{self._timestamp()} {text}\n".encode(errors="replace")
        self._buffer.append(data)
        self._buffered_bytes += len(data)
        if self._due is None:
            self._due = time.monotonic() + FLUSH_INTERVAL
        elif self._buffered_bytes >= FLUSH_BYTES or time.monotonic() >= self._due:
            self.flush()

    def flush_deadline(self) -> float | None:
        """When ``flush`` is due (monotonic clock); None while nothing is buffered."""
        return self._due

    def _timestamp(self) -> str:
        """``YYYY-MM-DD HH:MM:SS.ffffff`` local time, as ``str(datetime.now())`` prints it.

        The date and time up to the second are formatted once per second: under
        load that is a third of the cost of logging a line.  Microseconds are
        always printed (``str(datetime)`` drops them when they are zero).
        """
        now = time.time()
        second = int(now)
        if second != self._stamp_second:
            self._stamp_second = second
            self._stamp_prefix = datetime.fromtimestamp(second).strftime("%Y-%m-%d %H:%M:%S")
        return f"{self._stamp_prefix}.{int((now - second) * 1e6):06d}"

    def plain(self, text: str) -> None:
        """A line without a timestamp (the ready and stop lines), handed over at once."""
        self._buffer.append(f"{text}\n".encode(errors="replace"))
        self.flush()

    def flush(self) -> None:
        """Hand the buffered lines to the writers; returns at once whatever they do."""
        self._due = None
        self._buffered_bytes = 0
        if not self._buffer:
            return
        data = b"".join(self._buffer)
        lines = len(self._buffer)
        self._buffer.clear()
        for writer in self._writers:
            writer.submit(data, lines)

    def close(self, timeout: float = 2.0) -> None:
        """Flush, let the writers finish (a reader that never reads gets ``timeout``)."""
        self.flush()
        for writer in self._writers:
            writer.close(timeout)
            if writer.is_alive():  # still blocked in write: closing would block here too
                continue
            try:
                writer.target.close()
            except OSError:
                pass
