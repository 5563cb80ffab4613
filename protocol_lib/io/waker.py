"""Waking a thread that waits in ``select`` (a socket pair), and the signals that stop us."""

from __future__ import annotations

import signal
import socket


class Waker:
    """A readable end to put in a ``select`` set and a ``wake`` to call from anywhere.

    ``wake`` is safe from another thread and from a signal handler (a one-byte
    non-blocking send; a full buffer already means "wake up").
    """

    def __init__(self) -> None:
        self._r, self._w = socket.socketpair()
        self._r.setblocking(False)
        self._w.setblocking(False)

    @property
    def reader(self) -> socket.socket:
        """The end that becomes readable on ``wake``."""
        return self._r

    def wake(self) -> None:
        try:
            self._w.send(b"\0")
        except OSError:  # full (a wake-up is already pending) or closed
            pass

    def drain(self) -> None:
        """Read every pending wake-up, so that ``select`` blocks again."""
        try:
            while self._r.recv(64):
                pass
        except OSError:
            pass

    def close(self) -> None:
        self._r.close()
        self._w.close()


def stop_signals() -> list[signal.Signals]:
    """The signals that ask a program to stop: Ctrl+C, SIGTERM, and on Windows Ctrl+Break
    (SIGBREAK: what a launcher can send a program it started in a process group of its own;
    SIGTERM there only ever comes from the program itself)."""
    names = ("SIGINT", "SIGTERM", "SIGBREAK")
    return [s for s in (getattr(signal, name, None) for name in names) if s is not None]
