"""Every line of the chat kept in SQLite, searchable (FTS5), written off the GUI thread. No Qt.

Kept in ``history.sqlite3`` in the data directory (``places.data_dir``: on Linux
``$XDG_DATA_HOME/lanchat/``, ``~/.local/share/lanchat/``),
one conversation per server and group, and within it one reader per name: each line is
kept with the name the window was in the chat as (``me``; "" when it was not), and a
window reads the lines kept under its own name.  Two windows of one account in one chat
(alice and bob) each keep every line; read together, each line came twice and bob's own
lines (``->``, "you") showed in alice's window as hers.  Lines kept before ``me``
existed are read under every name.  The GUI thread hands lines over with
``record`` (a list append under a lock); a writer thread inserts them in one
transaction per batch, every ``WRITE_INTERVAL`` seconds or ``WRITE_BATCH``
lines, so a flood costs the view nothing but the hand-over.  A rename (``/nick``) moves the
lines kept under the old name to the new one (``rename``): the conversation belongs to the
window's chat, not to the name it had, so it stays whole through renames and reopens.
Reading (the last lines at start, a search) uses a connection of its own; WAL mode lets it
read while the writer writes.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .cli import Conversation
from .places import data_dir
from .presenter import SAID
from .search_hits import folded_words

WRITE_INTERVAL = 0.5  # seconds a recorded line may wait before it is on disk
WRITE_BATCH = 2000  # or this many lines, whichever comes first
SHOWN_AT_START = 200  # lines of the conversation shown, set apart, when the window opens

_SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY, server TEXT, port INTEGER, grp TEXT, group_port INTEGER,
    UNIQUE (server, port, grp, group_port));
CREATE TABLE IF NOT EXISTS lines (
    id INTEGER PRIMARY KEY, conversation INTEGER, at REAL, kind TEXT, sender TEXT, text TEXT,
    me TEXT);
CREATE INDEX IF NOT EXISTS lines_by_conversation ON lines (conversation, id);
CREATE VIRTUAL TABLE IF NOT EXISTS lines_text USING fts5 (
    text, sender, content = 'lines', content_rowid = 'id');
CREATE TRIGGER IF NOT EXISTS lines_indexed AFTER INSERT ON lines BEGIN
    INSERT INTO lines_text (rowid, text, sender) VALUES (new.id, new.text, new.sender);
END;
"""


def match_query(words: str) -> str | None:
    """The FTS5 query for ``words``: each word typed, quoted (nothing in it is read as
    syntax), as a phrase whose last word may be the start of one, in the text (not the
    sender); FTS5 folds and splits it as it did the lines. None for no words."""
    typed = [word for word in words.split() if folded_words(word)]
    quoted = [word.replace('"', '""') for word in typed]
    return " AND ".join(f'text : "{word}"*' for word in quoted) if quoted else None


# The lines a window reads: those kept under its name, and those kept before ``me``
# existed (NULL), which every name reads.  One parameter: the name.
_READ_BY = "(lines.me = ? OR lines.me IS NULL)"
# What a search finds: what people said (presenter.SAID), as the window's search does.
_SAID_KINDS = ", ".join(sorted(f"'{kind.value}'" for kind in SAID))


def default_path() -> Path:
    return data_dir() / "history.sqlite3"


@dataclass(frozen=True, slots=True)
class StoredLine:
    """A line as kept: when (unix time), what kind (a LineKind value), who, what."""

    at: float
    kind: str
    sender: str
    text: str

    def when(self) -> str:
        return datetime.fromtimestamp(self.at).strftime("%Y-%m-%d %H:%M")


class HistoryStore:
    """The history of one conversation: ``record`` from the GUI, read with ``recent``/``search``."""

    def __init__(self, path: Path, conversation: Conversation) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._read = sqlite3.connect(path, check_same_thread=False)
        self._read.executescript(_SCHEMA)
        columns = {row[1] for row in self._read.execute("PRAGMA table_info(lines)")}
        if "me" not in columns:  # a file from before ``me``: its lines stay, read by all
            self._read.execute("ALTER TABLE lines ADD COLUMN me TEXT")
        self._read.execute(
            "CREATE INDEX IF NOT EXISTS lines_by_reader ON lines (conversation, me, id)"
        )
        self._read.execute(
            "INSERT OR IGNORE INTO conversations (server, port, grp, group_port) "
            "VALUES (?, ?, ?, ?)",
            conversation,
        )
        self._read.commit()
        (self.conversation,) = self._read.execute(
            "SELECT id FROM conversations WHERE server = ? AND port = ? AND grp = ? "
            "AND group_port = ?",
            conversation,
        ).fetchone()
        self._lock = threading.Condition()
        self._pending: list[tuple[int, float, str, str, str, str]] = []
        self._renames: list[tuple[str, str]] = []  # (old, new): after the pending lines
        self._closing = False
        self._busy = False  # the writer holds a batch it has not committed yet
        self.failure: str | None = None  # why the writer stopped, if it did
        self._writer = threading.Thread(target=self._write_loop, name="lanchat-history")
        self._writer.daemon = True
        self._writer.start()

    def record(
        self, lines: Iterable[tuple[str, str, str]], at: float | None = None, *, me: str = ""
    ) -> None:
        """Keep ``(kind, sender, text)`` lines as seen by ``me``; returns at once (the
        writer stores them)."""
        now = time.time() if at is None else at
        c = self.conversation
        rows = [(c, now, kind, sender, text, me) for kind, sender, text in lines]
        if not rows:
            return
        with self._lock:
            first = not self._pending
            self._pending.extend(rows)
            if first or len(self._pending) >= WRITE_BATCH:  # the writer: awake, or write now
                self._lock.notify()

    def rename(self, old: str, new: str) -> None:
        """The window that kept lines as ``old`` is in the chat as ``new`` now: its lines,
        those recorded until now included, are read under ``new`` from now on."""
        if old == new:
            return
        with self._lock:
            self._renames.append((old, new))
            self._lock.notify()

    def recent(self, limit: int = SHOWN_AT_START, *, me: str = "") -> list[StoredLine]:
        """The last ``limit`` lines of this conversation kept by ``me``, oldest first."""
        rows = self._read.execute(
            f"SELECT at, kind, sender, text FROM lines WHERE conversation = ? AND {_READ_BY} "
            "ORDER BY id DESC LIMIT ?",
            (self.conversation, me, limit),
        ).fetchall()
        return [StoredLine(*row) for row in reversed(rows)]

    def search(self, words: str, limit: int = 50, *, me: str = "") -> list[StoredLine]:
        """Lines of this conversation kept by ``me`` whose text has every word of ``words``,
        each as the start of a word, case and Latin accents ignored, newest first: the
        window's search bar finds lines by the same rule (search_hits.has_words)."""
        query = match_query(words)
        if query is None:
            return []
        rows = self._read.execute(
            "SELECT lines.at, lines.kind, lines.sender, lines.text FROM lines_text "
            "JOIN lines ON lines.id = lines_text.rowid "
            f"WHERE lines_text MATCH ? AND lines.conversation = ? AND {_READ_BY} "
            f"AND lines.kind IN ({_SAID_KINDS}) "
            "ORDER BY lines.id DESC LIMIT ?",
            (query, self.conversation, me, limit),
        ).fetchall()
        return [StoredLine(*row) for row in rows]

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until what was recorded is on disk (tests, closing); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._lock.notify()
            while (self._pending or self._renames or self._busy) and self.failure is None:
                if not self._lock.wait(max(0.0, deadline - time.monotonic())):
                    return False
        return True

    def close(self) -> None:
        with self._lock:
            self._closing = True
            self._lock.notify()
        self._writer.join(5.0)
        self._read.close()

    def _write_loop(self) -> None:
        try:
            db = sqlite3.connect(self.path)
            db.execute("PRAGMA synchronous = NORMAL")  # WAL: durable enough, far fewer fsyncs
        except sqlite3.Error as exc:
            self.failure = f"history not kept: {exc}"
            return
        while True:
            with self._lock:
                while not self._pending and not self._renames and not self._closing:
                    self._lock.wait()  # at rest: asleep until a line comes (no wake-ups)
                if not self._closing and not self._renames and len(self._pending) < WRITE_BATCH:
                    self._lock.wait(WRITE_INTERVAL)  # more lines, in one transaction
                batch, self._pending = self._pending, []
                renames, self._renames = self._renames, []
                self._busy = bool(batch or renames)
                closing = self._closing
            if batch or renames:
                try:
                    with db:  # one transaction per batch
                        db.executemany(
                            "INSERT INTO lines (conversation, at, kind, sender, text, me) "
                            "VALUES (?, ?, ?, ?, ?, ?)",
                            batch,
                        )
                        db.executemany(
                            "UPDATE lines SET me = ? WHERE conversation = ? AND me = ?",
                            [(new, self.conversation, old) for old, new in renames],
                        )
                except sqlite3.Error as exc:  # a full disk, a locked file: say so, go on
                    self.failure = f"history not kept: {exc}"
            with self._lock:
                self._busy = False
                self._lock.notify_all()
            if closing:
                break
        db.close()
