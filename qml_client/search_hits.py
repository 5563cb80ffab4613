"""The lines of the view that the last /search found, visited one by one (F3), newest
first, cycling.  Lines are known by their sequence number, so a hit that has left the
scrollback meanwhile is skipped (and forgotten).  No Qt here but the model it reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the model is the view's; this module needs no Qt to run
    from .models import MessageModel


class SearchHits:
    def __init__(self, model: MessageModel) -> None:
        self.model = model
        self._hits: list[int] = []  # sequence numbers of the view's matching lines
        self._next = 0

    def find(self, words: str) -> bool:
        """Remember the view's lines with ``words``; whether there are any."""
        self._hits = [self.model.sequence(row) for row in self.model.rows_with(words)]
        self._next = 0
        return bool(self._hits)

    @property
    def count(self) -> int:
        """Hits remembered (some may have left the view since)."""
        return len(self._hits)

    def next_row(self) -> int:
        """The row of the next hit still in the view, or -1."""
        while self._hits:
            at = self._next % len(self._hits)
            row = self.model.row_of(self._hits[at])
            if row is None:
                del self._hits[at]
                continue
            self._next += 1
            return row
        return -1
