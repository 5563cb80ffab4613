"""Which names this account's windows are in a chat as, so that a second window does not
log in as the first one's remembered name. No Qt here.

A window that is welcomed holds an advisory lock on a file named for the conversation
and the name: ``flock`` where the OS has it, ``msvcrt.locking`` on Windows, and no lock
at all where neither exists (the hold may only ever stop an automatic login, so "cannot
lock" always reads as "not held").  Not the ``filelock`` package: where it finds no OS
lock it falls back to a lock file's mere existence, which a crashed window would leave
behind, and the remembered name would never log in again.

A window that starts with a remembered name (not one given on the command line)
checks it first: if another window holds it, logging in would take
the name over from that window (our server lets a client on the same host do that), so
it waits for the user to choose.  The OS lets go of the lock when the holder's
process ends, crash included, so a stale file never keeps a name.  A file system that
cannot lock answers "not held": the check may only ever stop an automatic login.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from protocol_lib.names import canonical_name

from .cli import Conversation
from .places import runtime_dir


def default_directory() -> Path:
    """``$XDG_RUNTIME_DIR/lanchat`` on Linux; each OS's own (``places.runtime_dir``)."""
    return runtime_dir()


def _os_lock() -> tuple[Callable[[int], bool] | None, Callable[[int], None]]:
    """How this OS locks an open file without waiting (True: locked; None where no lock
    Python reaches exists), and how a descriptor is let go of (its lock first)."""
    try:
        import fcntl
    except ImportError:
        pass
    else:

        def flock(fd: int) -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        return flock, os.close  # the lock goes with the descriptor
    try:
        import msvcrt
    except ImportError:
        return None, os.close

    def locking(fd: int) -> bool:  # the first byte of the file
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except PermissionError:  # EACCES: another handle holds it
            return False
        return True

    def unlock_and_close(fd: int) -> None:
        """Windows unlocks on close "when resources allow": unlock first, at once."""
        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        os.close(fd)

    return locking, unlock_and_close


try_lock, let_go = _os_lock()
"""How this OS locks a file (None: not at all), and how a descriptor is let go of
(``let_go``, with its lock).  A lock that fails for another reason than "held" raises
OSError, read as "not held"."""


def lock_file(path: Path) -> int | None:
    """A descriptor holding ``path``'s lock (the file is made if missing), or None if
    another holds it, or it cannot be locked here.  Give it back with ``let_go``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None
    try:
        locked = try_lock is not None and try_lock(fd)
    except OSError:
        locked = False
    if not locked:
        os.close(fd)
        return None
    return fd


def locked_elsewhere(path: Path) -> bool:
    """Whether another open lock holds ``path`` now.  No file, no lock on this OS, or a
    lock that fails for another reason: False (never block a login on a guess)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:  # no file: nobody ever held it here
        return False
    held = False
    try:
        held = try_lock is not None and not try_lock(fd)
    except OSError:
        pass
    finally:
        if held:
            os.close(fd)
        else:
            let_go(fd)  # also lets go of the lock just taken
    return held


class NameHold:
    """The one name this window is in the chat as; at most one at a time."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._held: tuple[Path, int] | None = None  # the locked file, its descriptor

    @classmethod
    def default(cls) -> NameHold:
        return cls(default_directory())

    def _path(self, conversation: Conversation, name: str) -> Path:
        # Names on the server's terms (ALICE is alice); hashed: any name makes a file name.
        key = repr((conversation, canonical_name(name))).encode("utf-8")
        return self.directory / f"{hashlib.sha256(key).hexdigest()[:32]}.lock"

    def held_elsewhere(self, conversation: Conversation, name: str) -> bool:
        """Whether another window (another open lock) is in this chat as ``name`` now."""
        return locked_elsewhere(self._path(conversation, name))

    def hold(self, conversation: Conversation, name: str) -> bool:
        """Hold ``name`` instead of any name held before (already held: nothing to do);
        False if another holds it.  Where the OS cannot lock: True, holding nothing."""
        if try_lock is None:
            return True
        path = self._path(conversation, name)
        if self._held is not None and self._held[0] == path:
            return True
        self.release()
        fd = lock_file(path)
        self._held = (path, fd) if fd is not None else None
        return fd is not None

    def release(self) -> None:
        if self._held is not None:
            with contextlib.suppress(OSError):
                let_go(self._held[1])
            self._held = None

    @property
    def holding(self) -> bool:
        return self._held is not None
