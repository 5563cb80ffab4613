"""Which names this account's windows are in a chat as, so that a second window does not
log in as the first one's remembered name. No Qt here.

A window that is welcomed holds an advisory lock (``flock``) on a file named for the
conversation and the name.  A window that starts with a remembered name (not one given
on the command line) checks it first: if another window holds it, logging in would take
the name over from that window (our server lets a client on the same host do that), so
it waits for the user to choose.  The kernel lets go of the lock when the holder's
process ends, crash included, so a stale file never keeps a name.  A file system that
cannot lock answers "not held": the check may only ever stop an automatic login.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from pathlib import Path

from protocol_lib.names import canonical_name

from .cli import Conversation
from .xdg import config_home


def default_directory() -> Path:
    """``$XDG_RUNTIME_DIR/lanchat`` (per user, gone at logout), else the config directory."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if os.path.isabs(runtime):
        return Path(runtime) / "lanchat"
    return config_home() / "lanchat" / "names"


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

    def _lock(self, conversation: Conversation, name: str) -> int | None:
        """A descriptor holding the name's lock, or None if another holds it (or no lock)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._path(conversation, name), os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        return fd

    def held_elsewhere(self, conversation: Conversation, name: str) -> bool:
        """Whether another window (another open lock) is in this chat as ``name`` now."""
        path = self._path(conversation, name)
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:  # no file: nobody ever held it here
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:  # cannot lock here: say "not held", never block a login
            return False
        finally:
            os.close(fd)  # also lets go of the lock just taken
        return False

    def hold(self, conversation: Conversation, name: str) -> bool:
        """Hold ``name`` instead of any name held before (already held: nothing to do);
        False if another holds it."""
        path = self._path(conversation, name)
        if self._held is not None and self._held[0] == path:
            return True
        self.release()
        fd = self._lock(conversation, name)
        self._held = (path, fd) if fd is not None else None
        return fd is not None

    def release(self) -> None:
        if self._held is not None:
            with contextlib.suppress(OSError):
                os.close(self._held[1])
            self._held = None

    @property
    def holding(self) -> bool:
        return self._held is not None
