"""The lines of the view that the last search found, visited one by one, newest first,
cycling: older (Enter, F3, the search bar's up arrow) and newer (Shift+Enter, Shift+F3).
Lines are known by their sequence number, so a hit that has left the scrollback meanwhile
is skipped (and forgotten).  No Qt here but the model it reads."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Protocol


class Lines(Protocol):
    """What the hits read of the view's lines (models.MessageModel has it): the view's
    model imports this module for its matching, so this one names no model of its own."""

    def rows_with(self, terms: list[list[str]], first: int = 0, last: int = -1) -> list[int]: ...
    def sequence(self, row: int) -> int: ...
    def row_of(self, sequence: int) -> int | None: ...


# The combining marks unicode61 drops from a word (its remove_diacritics); every other mark
# ends a word there, and so here.  Found by asking SQLite 3.40 (Debian 12's) of each mark.
_ACCENT_MARKS = frozenset(
    chr(cp)
    for first, last in ((0x300, 0x304), (0x306, 0x30C), (0x30F, 0x30F), (0x311, 0x311),
                        (0x31B, 0x31B), (0x323, 0x328), (0x32D, 0x32E), (0x330, 0x331))
    for cp in range(first, last + 1)
)  # fmt: skip


@lru_cache(maxsize=8192)
def _folded(ch: str) -> str | None:
    """One character as the history's full-text index (SQLite FTS5, unicode61, its
    default remove_diacritics) compares it: None if it separates words (letters, digits,
    private-use and unassigned characters are in words), else in lower case, a Latin letter with
    accents as its bare letter ("É" is "e", an accent mark nothing); nothing else is
    decomposed (Hangul, kana, ligatures stay as they are, as unicode61 keeps them).
    Checked against SQLite 3.40 over the whole BMP: the two differ on 0.5% of code
    points, rare symbols and letters (IPA, some punctuation) whose Unicode data differs."""
    if ch in _ACCENT_MARKS:  # in the word, dropped ("e" + U+0301 is "e")
        return ""
    category = unicodedata.category(ch)
    if category[0] not in "LN" and category not in ("Co", "Cn"):  # (unassigned: as SQLite)
        return None
    low = ch.lower()
    if len(low) != 1:  # "İ" lowers to two characters: kept as it is
        return ch
    bare = unicodedata.normalize("NFD", low)
    if len(bare) > 1 and bare[0].isascii() and all(unicodedata.combining(m) for m in bare[1:]):
        return bare[0]
    return low


def folded_words(text: str) -> list[str]:
    """The words of ``text`` as a search compares them (``_folded``): case and Latin
    accents ignored ("Café" is "cafe"), split where the history's index splits them, so
    the window and the history find the same lines."""
    words: list[str] = []
    word: list[str] = []
    for ch in text:
        folded = _folded(ch)
        if folded is not None:
            word.append(folded)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    return [word for word in words if word]  # (accent marks alone make no word)


def search_phrases(words: str) -> list[list[str]]:
    """What a search for ``words`` looks for: each word typed (split at spaces) as the
    folded words it holds ("e-mail" is "e", "mail", one after the other); none if no
    word holds a letter or digit."""
    return [phrase for phrase in map(folded_words, words.split()) if phrase]


def has_words(phrases: list[list[str]], text: str) -> bool:
    """Whether ``text`` has every one of ``phrases`` (``search_phrases``): its words in a
    row, the last one as the start of a word, as the history's query "word"* finds them:
    "port" finds "ports" and "Port", not "report"."""
    found = folded_words(text)
    return all(_has_phrase(phrase, found) for phrase in phrases)


def _has_phrase(phrase: list[str], words: list[str]) -> bool:
    *whole, start = phrase
    span = len(phrase)
    return any(
        words[i + span - 1].startswith(start) and words[i : i + span - 1] == whole
        for i in range(len(words) - span + 1)
    )


class SearchHits:
    def __init__(self, model: Lines) -> None:
        self.model = model
        self._terms: list[list[str]] = []  # what is searched (search_phrases); none: no search
        self._hits: list[int] = []  # sequence numbers of the view's matching lines, newest first
        self._current = -1  # index in _hits of the hit shown; -1: none yet

    def find(self, words: str) -> bool:
        """Remember the view's lines with every one of ``words``; whether there are any
        (no words find nothing)."""
        self._terms = search_phrases(words)
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
