"""The server's log lines, in the assignment's format, and where they go.

The spec's lines are ``<datetime.now()> <what> has arrived from <user>@<addr>``;
we keep that shape exactly (people grep for it) and add lines of the same style
for rejections and their flood summaries.

Logging a request costs the relay a clock read and a list append: the core's
record is kept as it is, with its wall-clock time, and formatted later
(``format_pending``): under load, with the rest of a batch before the loop
sleeps (or every ``PENDING_RECORDS``); at a human pace, right after the datagram
was relayed.  Formatting per line between two system calls cost more (the
interpreter runs cold there; benchmarks/README.md, session 4).  Formatted text
is handed to the writers ``FLUSH_INTERVAL`` after its first line or at
``FLUSH_BYTES``, never per line: at 20,000 lines a second a hand-over per line
cost 9 us of CPU per line.

The log never holds up the relay.  Writing happens in a thread per target
(stdout, the log file): a terminal that is paused, a ``| tee`` that stopped
reading or a slow disk blocks that thread only.  What waits for it is bounded
(``BACKLOG_BYTES``); lines beyond are dropped, counted, and summarised in one
line as soon as the target takes writes again.
"""

from __future__ import annotations

import io
import os
import threading
import time
from collections import deque
from datetime import datetime
from functools import lru_cache
from typing import BinaryIO

from protocol_lib.server_events import (
    Address,
    HostSweeping,
    RejectionsSummarised,
    RequestArrived,
    RequestRejected,
    SessionEvicted,
)

LogEvent = RequestArrived | RequestRejected | RejectionsSummarised

FLUSH_INTERVAL = 0.1  # seconds: the longest a line waits before it is handed over
FLUSH_BYTES = 64 * 1024  # or this much text: a batch is a small part of a writer's backlog
PENDING_RECORDS = 256  # records formatted at the latest: ~1 ms of work, never a long stall
BACKLOG_BYTES = 1024 * 1024  # per target: log waiting for a blocked reader (~4,000 lines)


@lru_cache(maxsize=4096)
def who(user: str | None, addr: Address) -> str:
    """``thyago@('10.50.26.250', 62648)``, as the spec prints a client (remembered for the
    most recent senders: the tuple's repr was a fifth of a line's formatting)."""
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


def warning_line(event: HostSweeping | SessionEvicted) -> str:
    """What the operator should know beside the requests: a sweep of source ports under way
    (said once per log window per host), a session ended to let a newcomer into a full chat."""
    if isinstance(event, SessionEvicted):
        return (
            f"the chat is full: {who(event.user, event.addr)} was ended to let a newcomer in "
            f"(its host held {event.held} sessions, the most; it had been silent the longest)"
        )
    return (
        f"warning: datagrams from {event.ports}+ ports of {event.host} that have no session "
        "were refused within one log window: a sweep of source ports (spoofed, to hit a "
        "session's port) looks under way; they share one budget"
    )


def event_line(event: LogEvent) -> str:
    """The line for one of the core's records (without the timestamp)."""
    if type(event) is RequestArrived:
        return request_line(event)
    if type(event) is RequestRejected:
        return rejection_line(event)
    assert type(event) is RejectionsSummarised
    return summary_line(event)


class _Writer(threading.Thread):
    """Writes batches of lines to one target, so a blocked target blocks only this thread."""

    def __init__(self, target: BinaryIO, path: str | None = None) -> None:
        super().__init__(name="lanchat-log-writer", daemon=True)
        self.target = target
        self.path = path  # the file's name, opened again by ``reopen`` (None: a stream)
        self._cond = threading.Condition()
        self._queue: deque[tuple[bytes | None, int]] = deque()  # None: reopen the file
        self._queued_bytes = 0
        self._dropped = 0  # lines not written: backlog full, or the target failed
        self.dropped_total = 0  # every line ever dropped (the metrics' counter)
        self._closing = False
        self.start()

    def submit(self, data: bytes, lines: int) -> None:
        """Queue a batch; never blocks.  Over the backlog the batch is counted, not kept."""
        with self._cond:
            if self._queued_bytes + len(data) > BACKLOG_BYTES:
                self._dropped += lines
                self.dropped_total += lines
                return
            self._queue.append((data, lines))
            self._queued_bytes += len(data)
            self._cond.notify()

    def reopen(self) -> None:
        """After what is queued now, write to ``path`` opened afresh (logrotate renamed the
        file): every line goes to one file or the other, once; never blocks."""
        with self._cond:
            self._queue.append((None, 0))
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
                if data is not None:
                    self._queued_bytes -= len(data)
            if data is None:
                self._reopen()
                continue
            lost = self._write(data, lines)
            if not lost:
                with self._cond:
                    dropped, self._dropped = self._dropped, 0
                if dropped:
                    # Its own clock read: the relay thread owns LogSink's timestamp cache.
                    stamp = f"{datetime.now():%Y-%m-%d %H:%M:%S.%f}"
                    note = (
                        f"{stamp} {dropped} log line(s) were dropped while the log "
                        "output was blocked or failing (the chat was not held up)\n"
                    )
                    self._write(note.encode(), 1)
            else:
                with self._cond:
                    self._dropped += lost
                    self.dropped_total += lost

    def _reopen(self) -> None:
        if self.path is None:
            return
        try:
            fresh = open(self.path, "ab", buffering=0)
        except OSError as exc:  # the old file stays: nothing is lost, and the log says why
            self._write(f"cannot reopen the log file {self.path}: {exc}\n".encode(), 1)
            return
        old, self.target = self.target, fresh
        try:
            old.close()
        except OSError:
            pass

    def _write(self, data: bytes, lines: int) -> int:
        """Write ``data`` (``lines`` lines); how many of them did not get out whole.

        A log file is unbuffered (``raw``): a full disk takes part of a batch, and the
        lines it did not take are counted exactly (a buffered file kept the rest in its
        buffer and wrote it later: 92 counted as dropped where 48 were).  A stream
        (stdout) is buffered: a failure there counts the batch."""
        if not isinstance(self.target, io.RawIOBase):
            try:
                self.target.write(data)
                self.target.flush()
            except (OSError, ValueError):  # a closed terminal, a closed stream
                return lines
            return 0
        rest = memoryview(data)
        try:
            while rest:
                written = self.target.write(rest)
                if not written:
                    break
                rest = rest[written:]
        except (OSError, ValueError):  # a full disk, a closed file
            pass
        return bytes(rest).count(b"\n")


class LogSink:
    """Timestamped lines to stdout (and a log file), batched, written off the relay's path."""

    def __init__(self, stream: BinaryIO, log_file: str | None = None) -> None:
        self._stream = stream
        # unbuffered: what a full disk did not take is known to the line (_Writer._write)
        self._file = open(log_file, "ab", buffering=0) if log_file else None  # closed in close()
        # Not formatted yet, in order: (wall-clock ns or None for no timestamp, item).
        self._pending: list[tuple[int | None, str | LogEvent]] = []
        self._text: list[str] = []  # formatted lines, not handed over yet
        self._text_size = 0
        self._due: float | None = None  # when the text must be handed over
        self._stamp_second = -1
        self._stamp_prefix = ""
        self._writers = [_Writer(stream)]
        if self._file is not None:
            self._writers.append(_Writer(self._file, log_file))

    @classmethod
    def to_stdout(cls, log_file: str | None = None) -> LogSink:
        """A sink on file descriptor 1 that ignores PYTHONUNBUFFERED's per-print writes."""
        return cls(os.fdopen(os.dup(1), "wb"), log_file)

    def line(self, text: str) -> None:
        """Queue one line; it gets the spec's timestamp (``str(datetime.now())``)."""
        self.event(text)

    def event(self, item: str | LogEvent) -> None:
        """Queue the line for one of the core's records (or a text), stamped now."""
        if self._due is None:  # the first line since the last hand-over sets the deadline
            self._due = time.monotonic() + FLUSH_INTERVAL
        pending = self._pending
        pending.append((time.time_ns(), item))
        if len(pending) >= PENDING_RECORDS:
            self.format_pending()

    def plain(self, text: str) -> None:
        """A line without a timestamp (the ready and stop lines), handed over at once."""
        self._pending.append((None, text))
        self.flush()

    def flush_deadline(self) -> float | None:
        """When ``flush`` is due (monotonic clock); None while nothing waits."""
        return self._due

    def format_pending(self) -> None:
        """Format the queued records now (a quiet moment); hand over FLUSH_BYTES batches."""
        pending = self._pending
        if not pending:
            return
        self._pending = []
        text, size = self._text, self._text_size
        second, prefix = self._stamp_second, self._stamp_prefix
        for stamp, item in pending:
            body = item if isinstance(item, str) else event_line(item)
            if stamp is None:
                line = f"{body}\n"
            else:
                seconds, ns = divmod(stamp, 1_000_000_000)
                if seconds != second:
                    second, prefix = seconds, self._second_prefix(seconds)
                line = f"{prefix}.{ns // 1000:06d} {body}\n"
            text.append(line)
            size += len(line)
            if size >= FLUSH_BYTES:
                self._hand_over()
                text, size = self._text, 0
        self._text_size = size

    def flush(self) -> None:
        """Hand every queued line to the writers; returns at once whatever they do."""
        self.format_pending()
        self._hand_over()
        self._due = None

    def _hand_over(self) -> None:
        text = self._text
        if not text:
            return
        self._text, self._text_size = [], 0
        data = "".join(text).encode(errors="replace")
        for writer in self._writers:
            writer.submit(data, len(text))

    def _second_prefix(self, second: int) -> str:
        """``YYYY-MM-DD HH:MM:SS`` local time, as ``str(datetime.now())`` prints it (with
        ``.ffffff`` after it, always: ``str(datetime)`` drops it when it is zero).

        Formatted once per second: under load that was a third of a line's cost.
        """
        if second != self._stamp_second:
            self._stamp_second = second
            self._stamp_prefix = datetime.fromtimestamp(second).strftime("%Y-%m-%d %H:%M:%S")
        return self._stamp_prefix

    @property
    def dropped(self) -> int:
        """Log lines dropped so far (a blocked or failing output), for the metrics."""
        return sum(writer.dropped_total for writer in self._writers)

    def reopen(self) -> None:
        """SIGHUP (logrotate): the lines so far to the file as it was, the next ones to the
        file named ``--log-file`` now, created if it was renamed away."""
        self.flush()
        for writer in self._writers:
            writer.reopen()

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
