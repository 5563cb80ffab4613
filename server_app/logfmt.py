"""The server's log lines, in the assignment's format, and where they go.

The spec's lines are ``<datetime.now()> <what> has arrived from <user>@<addr>``;
we keep that shape exactly (people grep for it) and add lines of the same style
for rejections and their flood summaries.  Lines are buffered and flushed when
the socket goes idle, or every ``FLUSH_INTERVAL`` seconds under load: a write
syscall per datagram would cost more than relaying it.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import BinaryIO

from protocol_lib.server import (
    Address,
    RejectionsSummarised,
    RequestArrived,
    RequestRejected,
)

FLUSH_INTERVAL = 0.1  # seconds: the longest a line waits in the buffer under load


def who(user: str | None, addr: Address) -> str:
    """``thyago@('10.50.26.250', 62648)``, as the spec prints a client."""
    return f"{user}@{addr!r}" if user is not None else repr(addr)


def request_line(event: RequestArrived) -> str:
    """The spec's line for an accepted request (without the timestamp)."""
    if event.kind == "login":
        line = f"login request has arrived from {who(event.user, event.addr)}"
        if event.takeover_from is not None:
            line += f" (takes the name over from {event.takeover_from!r})"
        return line
    if event.kind == "msg":
        return f'msg "{event.text}" has arrived from user: {who(event.user, event.addr)}'
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


class LogSink:
    """Writes timestamped lines to stdout (and a log file), flushing in batches."""

    def __init__(self, stream: BinaryIO, log_file: str | None = None) -> None:
        self._stream = stream
        self._file = open(log_file, "ab") if log_file else None  # closed in close()
        self._buffer: list[bytes] = []
        self._last_flush = time.monotonic()
        self._stamp_second = -1
        self._stamp_prefix = ""

    @classmethod
    def to_stdout(cls, log_file: str | None = None) -> LogSink:
        """A sink on file descriptor 1 that ignores PYTHONUNBUFFERED's per-print writes."""
        return cls(os.fdopen(os.dup(1), "wb"), log_file)

    def line(self, text: str) -> None:
        """Queue one line with the spec's timestamp (``str(datetime.now())``)."""
        self._buffer.append(f"{self._timestamp()} {text}\n".encode(errors="replace"))
        if time.monotonic() - self._last_flush >= FLUSH_INTERVAL:
            self.flush()

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
        """A line without a timestamp (the ready and stop lines), written at once."""
        self._buffer.append(f"{text}\n".encode(errors="replace"))
        self.flush()

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        if not self._buffer:
            return
        data = b"".join(self._buffer)
        self._buffer.clear()
        for target in (self._stream, self._file):
            if target is None:
                continue
            try:
                target.write(data)
                target.flush()
            except OSError:
                pass  # a closed terminal or a full disk must not stop the chat

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
        self._stream.close()
