"""The lines of the view that the last search found, visited one by one, newest first,
cycling: older (Enter, F3, the search bar's up arrow) and newer (Shift+Enter, Shift+F3).
Lines are known by their sequence number, so a hit that has left the scrollback meanwhile
is skipped (and forgotten).  No Qt here but the model it reads."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the model is the view's; this module needs no Qt to run
    from .models import MessageModel

_WORD = re.compile(r"[^\W_]+")  # letters and digits: what SQLite's unicode61 calls a token


def folded_words(text: str) -> list[str]:
    """The words of ``text`` as a search compares them: case and accents ignored ("Café"
    is "cafe"), split at anything but letters and digits, as the history's full-text
    index (SQLite FTS5, unicode61) splits them, so the window and the history agree."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _WORD.findall(bare)


def has_words(terms: list[str], text: str) -> bool:
    """Whether every one of ``terms`` (folded words) starts a word of ``text``: "port"
    finds "ports" and "Port", not "report"."""
    words = folded_words(text)
    return all(any(word.startswith(term) for word in words) for term in terms)


class SearchHits:
    def __init__(self, model: MessageModel) -> None:
        self.model = model
        self._terms: list[str] = []  # the words searched, folded; none: no search
        self._hits: list[int] = []  # sequence numbers of the view's matching lines, newest first
        self._current = -1  # index in _hits of the hit shown; -1: none yet

    def find(self, words: str) -> bool:
        """Remember the view's lines with every one of ``words``; whether there are any
        (no words find nothing)."""
        self._terms = folded_words(words)
        rows = self.model.rows_with(self._terms) if self._terms else []
        self._hits = [self.model.sequence(row) for row in rows]
        self._current = -1
        return bool(self._hits)

    def added(self, first: int, last: int) -> bool:
        """Rows ``first``..``last`` came into the view (new lines): those with the words
        join the hits, as the newest; whether any did.  The hit shown stays shown."""
        if not self._terms:
            return False
        rows = self.model.rows_with(self._terms, first, last)
        if not rows:
            return False
        self._hits[:0] = [self.model.sequence(row) for row in rows]
        if self._current >= 0:
            self._current += len(rows)
        return True

    @property
    def count(self) -> int:
        """Hits remembered (some may have left the view since)."""
        return len(self._hits)

    def position(self) -> tuple[int, int]:
        """(the hit shown, 1 = the newest; 0 if none) and how many are still in the view."""
        kept = [i for i, seq in enumerate(self._hits) if self.model.row_of(seq) is not None]
        if len(kept) != len(self._hits):
            current = self._hits[self._current] if self._current >= 0 else None
            self._hits = [self._hits[i] for i in kept]
            self._current = self._hits.index(current) if current in self._hits else -1
        return self._current + 1, len(self._hits)

    def next_row(self) -> int:
        """The row of the next older hit still in the view (after the oldest, the newest
        again), or -1."""
        return self._step(1)

    def previous_row(self) -> int:
        """The row of the next newer hit still in the view (after the newest, the oldest
        again), or -1."""
        return self._step(-1)

    def _step(self, delta: int) -> int:
        while self._hits:
            if self._current < 0:
                at = 0 if delta > 0 else len(self._hits) - 1
            else:
                at = (self._current + delta) % len(self._hits)
            row = self.model.row_of(self._hits[at])
            if row is not None:
                self._current = at
                return row
            del self._hits[at]  # it has left the view
            if at < self._current:
                self._current -= 1
            elif at == self._current:  # the only one, gone
                self._current = -1
        self._current = -1
        return -1
